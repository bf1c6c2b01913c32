// respondingTimeouts.writeTimeout: Go's http.Server.WriteTimeout, which Traefik passes through unchanged.
// The budget runs from the end of the request headers to the end of the response write, per response:
// an idle keep-alive connection is not charged (idleTimeout covers it).
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { constants as h2, type Http2ServerResponse, type ServerHttp2Stream } from 'node:http2';

/**
 * Wraps `handler` so that a response not completely written `ms` after its request headers were read is cut.
 * With `ms` = 0 (the default) it returns `handler` itself: no timer, no listener, nothing per request.
 * Upgrade requests must not go through it: like Go, which clears the deadline when a WebSocket connection is
 * hijacked, a tunnel may last as long as both sides keep it open.
 */
export function withWriteTimeout(handler: RequestListener, ms: number): RequestListener {
  if (!(ms > 0)) return handler;
  return function writeTimeout(req, res) {
    const timer = setTimeout(expire, ms, req, res);
    // 'close' follows 'finish' (everything handed to the kernel) and also comes when the client left first.
    res.once('close', () => clearTimeout(timer));
    handler(req, res);
  };
}

function expire(req: IncomingMessage, res: ServerResponse): void {
  if (!res.writableFinished) cut(req, res);
}

/**
 * HTTP/1.1 has no way to abort one response but closing its connection, which is what a client then sees, whether
 * the status line was sent or not (Go: the write fails, the connection is closed). Over HTTP/2 only the stream is
 * reset with INTERNAL_ERROR, as Go's HTTP/2 server does; the other streams of the connection carry on.
 */
function cut(req: IncomingMessage, res: ServerResponse): void {
  const stream = (res as unknown as Partial<Http2ServerResponse>).stream as ServerHttp2Stream | undefined;
  if (stream !== undefined) stream.close(h2.NGHTTP2_INTERNAL_ERROR);
  else req.socket.destroy();
}
