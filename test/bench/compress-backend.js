// Compress bench backend: answers every request with the same 100 KiB JSON document (Content-Length, application/json),
// uncompressed; `node compress-backend.js <port>` prints `listening <port>`.
import http from 'node:http';

/** About 100 KiB of JSON shaped like an API's list answer: repetitive keys, varied values. */
export function jsonBody(bytes = 100 * 1024) {
  const items = [];
  let size = 2;
  for (let i = 0; size < bytes; i++) {
    const item = { id: i, name: `user-${i}`, email: `user${i}@example.com`, active: i % 3 === 0, score: ((i * 7919) % 1000) / 10, tags: ['a', 'b', `t${i % 17}`] };
    items.push(item);
    size += JSON.stringify(item).length + 1;
  }
  return Buffer.from(JSON.stringify(items));
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  const body = jsonBody();
  const headers = { 'content-type': 'application/json', 'content-length': body.length };
  const server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, headers);
    res.end(body);
  });
  server.keepAliveTimeout = 120_000;
  server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => console.log(`listening ${server.address().port}`));
}
