// Demo backends for the quick start: small HTTP servers on loopback that say who they are and what they got.
import http from 'node:http';

/** Starts one backend; it answers with its name, the path it saw and the forwarded headers. */
export function startBackend(name, port, host = '127.0.0.1') {
  const server = http.createServer((req, res) => {
    const body = JSON.stringify(
      {
        backend: name,
        method: req.method,
        url: req.url,
        host: req.headers.host,
        forwardedFor: req.headers['x-forwarded-for'],
        forwardedPrefix: req.headers['x-forwarded-prefix'],
      },
      null,
      2,
    );
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) + 1 });
    res.end(`${body}\n`);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
