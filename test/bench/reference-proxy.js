// Bare reference proxy for benchmarks (node:http + undici Pool + pool.stream()): the floor Wharf is measured against.
import http from 'node:http';
import { Pool } from 'undici';

const [listenPort, target] = process.argv.slice(2);
if (listenPort === undefined || target === undefined) {
  console.error('usage: node reference-proxy.js <listenPort> <targetOrigin>');
  process.exit(2);
}

const pool = new Pool(target, { connections: 200, keepAliveTimeout: 90_000 });
// undici refuses these request headers (it frames and manages the connection itself).
const refused = ['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'expect'];

const server = http.createServer((req, res) => {
  const headers = { ...req.headers };
  for (const name of refused) delete headers[name];
  const body = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined ? req : null;
  const toClient = ({ statusCode, headers: upstream }) => {
    for (const name of ['connection', 'keep-alive', 'transfer-encoding']) delete upstream[name];
    res.writeHead(statusCode, upstream);
    return res;
  };
  pool.stream({ path: req.url, method: req.method, headers, body }, toClient, (err) => {
    if (err === null) return;
    if (res.headersSent) res.destroy();
    else res.writeHead(502, { 'content-type': 'text/plain' }).end('Bad Gateway');
  });
});

server.listen(Number(listenPort), '127.0.0.1', () => console.log(`listening ${server.address().port}`));
