// http-proxy baseline (the most used Node proxy) with a keep-alive agent; `node http-proxy-server.js <port> <target>` prints `listening <port>`.
import http from 'node:http';
import httpProxy from 'http-proxy';

const [listenPort, target] = process.argv.slice(2);
// Without a keep-alive agent http-proxy opens a connection per request, which would be an unfair baseline.
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const proxy = httpProxy.createProxyServer({ target, agent });

proxy.on('error', (_err, _req, res) => {
  if (res.headersSent) res.destroy();
  else res.writeHead(502, { 'content-type': 'text/plain' }).end('Bad Gateway');
});

const server = http.createServer((req, res) => proxy.web(req, res));
server.listen(Number(listenPort ?? 0), '127.0.0.1', () => console.log(`listening ${server.address().port}`));
