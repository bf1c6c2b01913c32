// Benchmark backend: a bare node:http server answering a short fixed body; `node backend.js <port>` prints `listening <port>`.
import http from 'node:http';

const body = Buffer.from('hello from the wharf bench backend\n');
const headers = { 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length };

const server = http.createServer((req, res) => {
  // Drain any request body so the connection stays reusable.
  req.resume();
  res.writeHead(200, headers);
  res.end(body);
});
// Longer than a round so proxies' idle pooled connections are not closed under them between measurements.
server.keepAliveTimeout = 120_000;
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => console.log(`listening ${server.address().port}`));
