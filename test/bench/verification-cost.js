// Credential checks measured in one process, for what HTTP load cannot show (the middlewares suite runs it):
//   - basicAuth's cold path: one bcrypt verification through the plugin's own worker thread (checkSecret), its CPU
//     and the event-loop time it costs the gateway, beside the same check run on the event loop (bcryptjs inline);
//   - digestAuth's check (header parse, response digest, nonce count), which a load generator cannot drive: every
//     request needs a higher nonce count on a nonce the server issued;
//   - passTLSClientCert on a real mutual-TLS connection (the headers built from the client's certificate chain), which
//     needs a client certificate that neither wrk nor autocannon presents.
// `node verification-cost.js <seconds> <htpasswd secret> <password>` prints one `COST_JSON {...}` line and exits.
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { connect, createServer } from 'node:tls';
import { pathToFileURL } from 'node:url';
import { checkSecret } from '@wharf/plugin-basicauth';
import { DigestAuthority, digestParams, md5 } from '@wharf/plugin-digestauth';
import passTLSClientCert from '@wharf/plugin-passtlsclientcert';
import { makeCA, makeCert } from '@wharf/test-helpers';

// Bounds: at least MIN_CHECKS, at most MAX_CHECKS, and no more than `seconds` of checks per measurement.
const MIN_CHECKS = 3;
const MAX_CHECKS = 200;
const DIGEST_CHECKS = 20_000;
const CLIENT_CERT_REQUESTS = 20_000;

const [seconds, secret, password] = [Number(process.argv[2] ?? 3), process.argv[3], process.argv[4]];
if (!secret || !password) {
  console.error('usage: node verification-cost.js <seconds> <htpasswd secret> <password>');
  process.exit(2);
}

/** Runs `check` one after the other within the bounds; CPU of every thread, wall and event-loop busy time per check. */
async function perCheck(check, { max = MAX_CHECKS } = {}) {
  const elu = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  const started = performance.now();
  let count = 0;
  while (count < max && (count < MIN_CHECKS || performance.now() - started < seconds * 1000)) {
    const pending = check(count);
    if (pending instanceof Promise) await pending; // a synchronous check is not charged a microtask turn
    count++;
  }
  const wallMs = performance.now() - started;
  const { user, system } = process.cpuUsage(cpu);
  return {
    checks: count,
    wallUs: (wallMs * 1000) / count,
    cpuUs: (user + system) / count,
    eventLoopUs: (performance.eventLoopUtilization(elu).active * 1000) / count,
  };
}

async function bcryptThroughWorker() {
  const bytes = Buffer.from(password);
  const verify = async () => {
    if (!(await checkSecret(bytes, secret))) throw new Error('basicAuth: the benchmark password does not match its hash');
  };
  await verify(); // starts the worker thread and loads bcryptjs there: not part of a verification
  return perCheck(verify);
}

async function bcryptOnEventLoop() {
  // The plugin's own bcryptjs, run where Traefik-style code would run it: in the request's path.
  const require = createRequire(import.meta.resolve('@wharf/plugin-basicauth'));
  const { default: bcrypt } = await import(pathToFileURL(require.resolve('bcryptjs')).href);
  const hash = `$2b$${secret.slice(4)}`;
  return perCheck(() => {
    if (!bcrypt.compareSync(password, hash)) throw new Error('bcryptjs: the benchmark password does not match its hash');
  });
}

/** digestAuth's per-request work on valid headers: one nonce, counts 1, 2, 3… as a client sends them. */
async function digestCheck() {
  const realm = 'bench';
  const ha1 = md5(`bench:${realm}:${password}`);
  const authority = new DigestAuthority(realm, (user, r) => (user === 'bench' && r === realm ? ha1 : undefined));
  const nonce = authority.issueNonce();
  const opaque = authority.opaque;
  const uri = '/api/bench';
  const ha2 = md5(`GET:${uri}`);
  const cnonce = 'MDAwMDAwMDAwMDAwMDAw';
  // The client's side is computed before the clock starts: only the gateway's check is timed.
  const headers = Array.from({ length: DIGEST_CHECKS }, (_, i) => {
    const nc = (i + 1).toString(16).padStart(8, '0');
    const response = md5([ha1, nonce, nc, cnonce, 'auth', ha2].join(':'));
    return `Digest username="bench", realm="${realm}", nonce="${nonce}", uri="${uri}", algorithm=MD5, qop=auth, nc=${nc}, cnonce="${cnonce}", response="${response}", opaque="${opaque}"`;
  });
  const request = { method: 'GET', url: uri };
  return perCheck(
    (i) => {
      const verdict = authority.check(digestParams(headers[i]), request);
      if (!('user' in verdict)) throw new Error(`digestAuth: check ${i + 1} refused (${JSON.stringify(verdict)})`);
    },
    { max: DIGEST_CHECKS },
  );
}

/**
 * passTLSClientCert's per-request work with `pem` and every `info` field, on the server side of a real mutual-TLS
 * connection whose client sends its certificate and an intermediate (the chain a client usually sends).
 */
async function clientCertHeaders() {
  const root = await makeCA('bench root CA');
  const intermediate = await makeCA('bench intermediate CA', root);
  const serverPem = await makeCert(['127.0.0.1'], { ca: root });
  const clientPem = await makeCert(['client.bench.example', 'ops@bench.example'], { ca: intermediate, usage: 'client', subject: [{ shortName: 'C', value: 'FR' }, { shortName: 'O', value: 'Wharf bench' }, { shortName: 'CN', value: 'bench client' }] });
  const server = createServer({ ...serverPem, ca: [root.cert], requestCert: true, rejectUnauthorized: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'secureConnection');
  const client = connect({ host: '127.0.0.1', port: server.address().port, ca: [root.cert], cert: `${clientPem.cert.trim()}\n${intermediate.cert.trim()}\n`, key: clientPem.key, checkServerIdentity: () => undefined });
  const [socket] = await accepted;
  const every = { country: true, province: true, locality: true, organization: true, commonName: true, serialNumber: true, domainComponent: true };
  const info = { notAfter: true, notBefore: true, sans: true, serialNumber: true, subject: { ...every, organizationalUnit: true }, issuer: every };
  const options = { pem: true, info };
  const next = () => undefined;
  const request = (middleware) => {
    const ctx = { req: { headers: {}, socket } };
    middleware(ctx, next);
    if (ctx.req.headers['x-forwarded-tls-client-cert-info'] === undefined) throw new Error('passTLSClientCert: no Info header on a mutual-TLS connection');
  };
  try {
    // A connection's first request reads and parses the chain (a middleware made afresh has not seen the connection).
    const first = await perCheck(() => request(passTLSClientCert.create(options, undefined)), { max: CLIENT_CERT_REQUESTS / 10 });
    const middleware = passTLSClientCert.create(options, undefined);
    const later = await perCheck(() => request(middleware), { max: CLIENT_CERT_REQUESTS });
    return { first, next: later };
  } finally {
    client.destroy();
    server.close();
  }
}

const result = {
  bcryptCost: Number(secret.split('$')[2]),
  worker: await bcryptThroughWorker(),
  inline: await bcryptOnEventLoop(),
  digest: await digestCheck(),
  clientCert: await clientCertHeaders(),
};
console.log(`COST_JSON ${JSON.stringify(result)}`);
process.exit(0);
