// The `tls` suite: requests/s over TLS with keep-alive (HTTP/1.1), Wharf against plain HTTP and against nginx terminating TLS.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { freePort, measureRounds, printTable, standardColumns, tempDir, warnIfContended, withRatios } from './lib.js';
import { origin, startBackend, startNginx, startWharf } from './targets.js';

export const description = 'TLS termination: Wharf over HTTPS (keep-alive) vs Wharf over plain HTTP vs nginx with and without TLS';

const HOST = 'bench.example';
const PATH = '/api/bench';
const BASELINES = { direct: 'direct', 'wharf-http': 'wharf-http', 'nginx-tls': 'nginx-tls' };

/** Runs the suite; resolves to the JSON document written to test-output/bench-tls.json. */
export async function run({ settings, log }) {
  const backend = await startBackend();
  const cert = await writeCertificate();
  const targets = [{ name: 'direct', label: 'backend direct (http)', port: backend.port, pid: backend.pid }];

  const tlsPort = await freePort();
  const wharf = await startWharf({
    name: 'wharf',
    dynamic: wharfConfig(backend, cert),
    probe: { path: PATH, headers: { host: HOST } },
    args: [`--entrypoints.websecure.address=127.0.0.1:${tlsPort}`, '--entrypoints.websecure.http.tls=true'],
  });
  // One process, two entrypoints: the router (no tls of its own) is served on both, as in Traefik.
  targets.push({ name: 'wharf-http', label: 'Wharf, plain HTTP', port: wharf.port, pid: wharf.pid });
  targets.push({ name: 'wharf-tls', label: 'Wharf, TLS 1.3 (HTTP/1.1)', port: tlsPort, pid: wharf.pid, scheme: 'https' });

  const nginx = await startNginx(backend, { host: HOST });
  const nginxTLS = await startNginxTLS(backend, cert);
  if (nginx) targets.push({ name: 'nginx', label: 'nginx, plain HTTP', port: nginx.port, pid: nginx.pid });
  if (nginxTLS) targets.push({ name: 'nginx-tls', label: 'nginx, TLS 1.3 (1 worker)', port: nginxTLS.tlsPort, pid: nginxTLS.pid, scheme: 'https' });
  log(nginxTLS ? 'nginx: installed, rows included' : 'nginx: not installed, rows skipped');

  log(`\nmeasuring ${targets.length} targets × ${settings.rounds} rounds (${settings.seconds}s each, ${settings.connections} keep-alive connections)`);
  const measured = await measureRounds(
    targets.map((t) => ({ ...t, path: PATH, host: HOST })),
    settings,
    { alsoRunning: [backend.pid], log },
  );
  const rows = withRatios(measured, BASELINES);
  printTable(`tls: median of ${settings.rounds} rounds, ${settings.seconds}s each, ${settings.connections} connections, loader ${settings.loader}`, rows, standardColumns(BASELINES), log);
  const otherLoad = warnIfContended(rows, log);
  return { request: { host: HOST, path: PATH, tls: 'TLS 1.3, EC P-256 certificate, keep-alive' }, otherLoad, rows };
}

/** One EC P-256 certificate for HOST, used by every TLS target so they do the same cryptography. */
async function writeCertificate() {
  const dir = tempDir('tls-cert');
  const pems = await generate([{ name: 'commonName', value: HOST }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: HOST }] }],
  });
  const certFile = join(dir, 'bench.crt');
  const keyFile = join(dir, 'bench.key');
  writeFileSync(certFile, pems.cert);
  writeFileSync(keyFile, pems.private, { mode: 0o600 });
  return { certFile, keyFile };
}

function wharfConfig(backend, cert) {
  return {
    http: {
      routers: { bench: { rule: `Host(\`${HOST}\`)`, service: 'backend' } },
      services: { backend: { loadBalancer: { servers: [{ url: origin(backend) }] } } },
    },
    // Also the default certificate: load generators send the IP as SNI (or none).
    tls: { certificates: [cert], stores: { default: { defaultCertificate: cert } } },
  };
}

/** nginx terminating TLS like Wharf: one worker, keep-alive upstream (targets.js startNginx with tls). */
function startNginxTLS(backend, cert) {
  return startNginx(backend, { host: HOST, tls: cert });
}
