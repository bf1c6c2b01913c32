// `node examples/tls/start.js`: makes local certificates (first run), starts a demo backend, then Wharf with TLS.
import http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from 'wharf';
import { ensureCertificates } from './certs.js';

const here = dirname(fileURLToPath(import.meta.url));
process.chdir(join(here, '..', '..'));

const certs = await ensureCertificates(join(here, 'certs'));
const backend = await startBackend(9301);
process.stdout.write(`${certs.created ? 'made' : 'using'} example certificates in examples/tls/certs/ (CA: ca.crt)
demo backend on 127.0.0.1:9301
Try:
  curl --cacert examples/tls/certs/ca.crt https://app.localhost:8443/
  curl --cacert examples/tls/certs/ca.crt --http2 -sv https://app.localhost:8443/ 2>&1 | grep -i 'ALPN\\|HTTP/2'
  curl -i http://app.localhost:8000/some/path            (301 to https://app.localhost:8443/some/path)
  curl --cacert examples/tls/certs/ca.crt https://admin.localhost:8443/   (refused: no client certificate)
  curl --cacert examples/tls/certs/ca.crt --cert examples/tls/certs/client.crt --key examples/tls/certs/client.key https://admin.localhost:8443/
`);
const code = await main(['--configFile', join(here, 'wharf.yml'), ...process.argv.slice(2)]);
backend.close();
process.exit(code ?? 0);

/** The demo backend: answers with what it received, including how the client reached Wharf. */
function startBackend(port) {
  const server = http.createServer((req, res) => {
    const body = `${JSON.stringify({ backend: 'app', method: req.method, url: req.url, host: req.headers.host, proto: req.headers['x-forwarded-proto'] }, null, 2)}\n`;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
