// The `bank` API of the swarm example, reduced to what a rolling update exercises: it answers every request with
// the task that served it, and on SIGTERM leaves gracefully — stops accepting, closes idle keep-alive
// connections, lets in-flight requests finish, then exits 0 (what a service must do for zero-downtime updates).
// An ES module: the image copies it as server.mjs, away from this repository's "type": "module".
import { createServer } from 'node:http';
import { hostname } from 'node:os';

const PORT = Number(process.env.PORT ?? 8083);
// An in-flight request may take this long to finish after SIGTERM before the process gives up on it.
const GRACE_MS = Number(process.env.GRACE_MS ?? 10_000);
const task = process.env.TASK ?? hostname();

const server = createServer((req, res) => {
  // ?delay=<ms> holds the answer, so a test can have requests in flight when the task is told to stop.
  const delay = Math.min(Number(new URL(req.url ?? '/', 'http://bank').searchParams.get('delay')) || 0, 60_000);
  const body = JSON.stringify({ task, method: req.method, path: req.url }) + '\n';
  setTimeout(() => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }, delay);
});

server.listen(PORT, () => console.log(`bank ${task} listening on :${PORT}`));

process.once('SIGTERM', () => {
  console.log(`bank ${task}: SIGTERM, draining`);
  server.close(() => process.exit(0)); // stops accepting; calls back once the last connection closed
  server.closeIdleConnections();
  // Connections that finish a request while draining are closed instead of kept alive.
  server.on('request', (_req, res) => res.setHeader('connection', 'close'));
  setTimeout(() => process.exit(0), GRACE_MS).unref();
});
