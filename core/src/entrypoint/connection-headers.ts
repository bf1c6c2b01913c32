// Connection-named headers at the entrypoint (Traefik's forwardedHeaders.connection): a header a client names in
// Connection is hop-by-hop and removed before any middleware runs, unless the entrypoint lists it; the ones kept
// reach the middlewares and are removed by the proxy step, so the upstream never gets them.
import type { IncomingHttpHeaders } from 'node:http';

/**
 * Builds the removal for one entrypoint; `keep` is forwardedHeaders.connection. Headers the gateway manages
 * (X-Forwarded-*, X-Real-Ip), Host, Content-Length and Upgrade (a protocol switch needs it) are never removed here.
 */
export function connectionHeaderRemoval(keep: readonly string[]): (headers: IncomingHttpHeaders) => void {
  const kept = new Set(keep.map((name) => name.trim().toLowerCase()));
  return (headers) => {
    const connection = headers.connection;
    // The usual values name no header: one comparison and out.
    if (connection === undefined || connection === 'keep-alive' || connection === 'close' || connection === 'Keep-Alive' || connection === 'Close') return;
    for (const token of connection.split(',')) {
      const name = token.trim().toLowerCase();
      if (name === '' || kept.has(name) || isProtected(name)) continue;
      delete headers[name];
    }
  };
}

function isProtected(name: string): boolean {
  return name.startsWith('x-forwarded-') || name === 'x-real-ip' || name === 'host' || name === 'content-length' || name === 'upgrade' || name === 'connection';
}
