// Test helper: a real Node HTTP server that hands back the IncomingMessage for a raw request written over TCP.
import http, { type IncomingMessage } from 'node:http';
import net, { type AddressInfo } from 'node:net';

export interface ReceivedRequest {
  readonly req: IncomingMessage;
  /** The socket's remoteAddress, captured while the connection is still open. */
  readonly peer: string;
}

export interface RawRequestServer {
  /** Write `raw` on a fresh connection and resolve with the request as the server parsed it. */
  send(raw: string): Promise<ReceivedRequest>;
  close(): Promise<void>;
}

/** `GET /x HTTP/1.1` plus header lines, closed by a blank line, on a connection that closes afterwards. */
export function rawRequest(requestLine: string, ...headerLines: string[]): string {
  return [requestLine, ...headerLines, 'Connection: close', '', ''].join('\r\n');
}

export async function startRawRequestServer(listenHost = '127.0.0.1', connectHost = '127.0.0.1'): Promise<RawRequestServer> {
  // Requests are sent one at a time, so a single pending slot is enough to pair request and promise.
  let pending: ((received: ReceivedRequest) => void) | undefined;
  const server = http.createServer((req, res) => {
    pending?.({ req, peer: req.socket.remoteAddress ?? '' });
    pending = undefined;
    res.end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, listenHost, resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    send(raw) {
      return new Promise((resolve, reject) => {
        pending = resolve;
        const socket = net.connect(port, connectHost, () => socket.end(raw));
        socket.resume();
        socket.on('error', reject);
        socket.on('close', () => {
          if (pending !== resolve) return;
          pending = undefined;
          reject(new Error(`server rejected the request: ${JSON.stringify(raw.split('\r\n')[0])}`));
        });
      });
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
