// transport.keepAliveMaxTime: a keep-alive connection older than this is closed after its current response
// (Traefik's keep-alive middleware sets Connection: close on it).
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

const OPENED = Symbol('wharf.connectionOpened');
type AgedSocket = Socket & { [OPENED]?: number };

/** Notes when each connection opened, for keepAliveAgeLimit; only for an entrypoint with a limit. */
export function recordConnectionAge(server: Server, maxTimeMs: number): void {
  if (!(maxTimeMs > 0)) return;
  server.on('connection', (socket: AgedSocket) => {
    socket[OPENED] = performance.now();
  });
}

/**
 * The per-request check for one entrypoint, or undefined without a limit (nothing per request then). The age counts
 * from the TCP connection (recordConnectionAge); for a socket the server did not announce (TLS wraps it), from its
 * first request.
 */
export function keepAliveAgeLimit(maxTimeMs: number): ((req: IncomingMessage, res: ServerResponse) => void) | undefined {
  if (!(maxTimeMs > 0)) return undefined;
  return (req, res) => {
    const socket = req.socket as AgedSocket;
    const now = performance.now();
    const opened = (socket[OPENED] ??= now);
    if (now - opened < maxTimeMs) return;
    // HTTP/2 has no Connection header: a GOAWAY lets the streams in progress finish, then the session closes.
    if (req.httpVersionMajor >= 2) (req as unknown as { stream?: { session?: { close(): void } } }).stream?.session?.close();
    else res.setHeader('Connection', 'close');
  };
}
