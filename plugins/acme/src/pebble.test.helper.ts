// A real ACME CA for the tests: Debian's pebble (RFC 8555 test CA) with pebble-challtestsrv as its DNS server
// (every name → 127.0.0.1), on loopback ports; its validation traffic goes to the gateway's entrypoints.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { eventually, makeCA, makeCert, stablePort, startServer, tempDir, type TempDir } from '@wharf/test-helpers';

/** How long a test waits for a certificate: a real CA on a loaded machine (orders, validations, polling) can take far longer than the usual 30 s. */
export const ISSUANCE_MS = 120_000;

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

function run(command: string, args: string[], env: Record<string, string> = {}): { child: ChildProcess; output: () => string } {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  return { child, output: () => out };
}

/** A name pebble refuses to issue for. */
export const BLOCKED_DOMAIN = 'blocked.test';

export interface Pebble {
  /** ACME directory URL. */
  directory: string;
  /** File with the CA that signs pebble's own HTTPS certificate (the resolver's caCertificates). */
  apiCAFile: string;
  /** Pebble's root for the certificates it issues (what clients of the gateway trust); `index` > 0: an alternate root. */
  issuerRoot(index?: number): Promise<string>;
  /** pebble-challtestsrv's DNS server (host:port), the one pebble asks. */
  dnsServer: string;
  /** pebble-challtestsrv's management port (set-txt, clear-txt). */
  dnsManagementPort: number;
  /** Sets (`null` clears) a TXT record at pebble-challtestsrv, through its management API. */
  setTxt(fqdn: string, value: string | null): Promise<void>;
  /** How many certificates pebble issued so far (from its log). */
  issued(): number;
  /** How many orders pebble received so far (from its log), issued or not. */
  orders(): number;
  output(): string;
  dir: TempDir;
  stop(): Promise<void>;
}

export interface PebbleOptions {
  /** Port pebble sends HTTP-01 validation requests to (the gateway's challenge entrypoint). */
  httpPort: number;
  /** Port pebble sends TLS-ALPN-01 validation handshakes to (the gateway's TLS entrypoint). */
  tlsPort: number;
  /** Lifetime of issued certificates in seconds (pebble's default is about five years). */
  validitySeconds?: number;
  /** How many alternate chains (to other roots) pebble offers besides the default one. */
  alternateRoots?: number;
  /** Require external account binding with this key id and base64url HMAC key. */
  eab?: { kid: string; hmac: string };
}

/** Starts pebble-challtestsrv (DNS only) and pebble; resolves once pebble's directory answers. */
export async function startPebble(options: PebbleOptions): Promise<Pebble> {
  const dir = tempDir('wharf-pebble-');
  const [listen, management, dns, dnsManagement] = await Promise.all([stablePort(), stablePort(), stablePort(), stablePort()]);
  const ca = await makeCA('Pebble API test CA');
  const server = await makeCert(['localhost', '127.0.0.1'], { ca });
  const apiCAFile = join(dir.path, 'api-ca.pem');
  writeFileSync(apiCAFile, ca.cert);
  writeFileSync(join(dir.path, 'cert.pem'), server.cert);
  writeFileSync(join(dir.path, 'key.pem'), server.key);
  const config = {
    pebble: {
      listenAddress: `127.0.0.1:${listen}`,
      managementListenAddress: `127.0.0.1:${management}`,
      certificate: join(dir.path, 'cert.pem'),
      privateKey: join(dir.path, 'key.pem'),
      httpPort: options.httpPort,
      tlsPort: options.tlsPort,
      ocspResponderURL: '',
      externalAccountBindingRequired: options.eab !== undefined,
      ...(options.eab ? { externalAccountMACKeys: { [options.eab.kid]: options.eab.hmac } } : {}),
      // Orders for these names are refused (rejectedIdentifier): the CA saying no.
      domainBlocklist: [BLOCKED_DOMAIN],
      ...(options.validitySeconds ? { certificateValidityPeriod: options.validitySeconds } : {}),
    },
  };
  const configFile = join(dir.path, 'pebble.json');
  writeFileSync(configFile, JSON.stringify(config));
  const dnsServer = run('pebble-challtestsrv', ['-dns01', `127.0.0.1:${dns}`, '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${dnsManagement}`, '-defaultIPv6', '']);
  const pebble = run('pebble', ['-config', configFile, '-dnsserver', `127.0.0.1:${dns}`], {
    PEBBLE_VA_NOSLEEP: '1',
    PEBBLE_WFE_NONCEREJECT: '0',
    PEBBLE_AUTHZREUSE: '0',
    PEBBLE_ALTERNATE_ROOTS: String(options.alternateRoots ?? 0),
  });
  const agent = new https.Agent({ ca: ca.cert });
  const fetchText = (url: string) =>
    new Promise<string>((resolve, reject) => {
      https
        .get(url, { agent }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: ${res.statusCode}`))));
        })
        .on('error', reject);
    });
  const directory = `https://127.0.0.1:${listen}/dir`;
  await eventually(() => pebble.child.exitCode === null && fetchText(directory).then(() => true), 'pebble to serve its directory');
  const stopOne = async (child: ChildProcess) => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  return {
    directory,
    apiCAFile,
    issuerRoot: (index = 0) => fetchText(`https://127.0.0.1:${management}/roots/${index}`),
    dnsServer: `127.0.0.1:${dns}`,
    dnsManagementPort: dnsManagement,
    async setTxt(fqdn, value) {
      const path = value === null ? 'clear-txt' : 'set-txt';
      const response = await fetch(`http://127.0.0.1:${dnsManagement}/${path}`, { method: 'POST', body: JSON.stringify(value === null ? { host: fqdn } : { host: fqdn, value }) });
      if (!response.ok) throw new Error(`pebble-challtestsrv ${path}: ${response.status}`);
    },
    issued: () => (pebble.output().match(/Issued certificate serial/g) ?? []).length,
    orders: () => (pebble.output().match(/Added order /g) ?? []).length,
    output: pebble.output,
    dir,
    async stop() {
      agent.destroy();
      await Promise.all([stopOne(pebble.child), stopOne(dnsServer.child)]);
      dir.remove();
    },
  };
}

export interface Served {
  authorized: boolean;
  subjectaltname: string;
  issuer: string;
  serial: string;
  alpn: string | false;
}

/** The certificate a TLS entrypoint serves for `servername`, checked against `ca`. */
export function served(port: number, servername: string, ca: string): Promise<Served> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername, ca, rejectUnauthorized: false }, () => {
      const cert = socket.getPeerCertificate();
      resolve({ authorized: socket.authorized, subjectaltname: cert.subjectaltname ?? '', issuer: String(cert.issuer?.CN ?? ''), serial: cert.serialNumber, alpn: socket.alpnProtocol ?? false });
      socket.end();
    });
    socket.on('error', reject);
  });
}

/** Waits (up to ISSUANCE_MS) until `servername` on `port` gets a certificate that verifies against `ca`; that certificate. */
export function verifiedCertificate(port: number, servername: string, ca: string, what: string): Promise<Served> {
  return eventually(async () => {
    const s = await served(port, servername, ca);
    return s.authorized && s;
  }, what, ISSUANCE_MS);
}

/** Static configuration: `web` (HTTP-01) and `websecure` (TLS) on the given ports, one resolver `le`. */
export function staticConfig(ports: { web: number; websecure: number }, acme: Record<string, unknown>): Record<string, unknown> {
  return {
    entryPoints: { web: { address: `127.0.0.1:${ports.web}` }, websecure: { address: `127.0.0.1:${ports.websecure}`, http: { tls: {} } } },
    certificatesResolvers: { le: { acme } },
  };
}

export function routers(backendUrl: string, routerSet: Record<string, { rule: string; tls: Record<string, unknown> }>): Record<string, unknown> {
  const all = Object.fromEntries(Object.entries(routerSet).map(([name, r]) => [name, { ...r, entryPoints: ['websecure'], service: 'app' }]));
  return { http: { routers: all, services: { app: { loadBalancer: { servers: [{ url: backendUrl }] } } } } };
}

/** What a test file shares: pebble validating on `ports`, a backend, a temporary folder, pebble's root. */
export interface PebbleSuite {
  readonly ports: { web: number; websecure: number };
  readonly dir: TempDir;
  readonly pebble: Pebble;
  readonly backend: { url: string; close(): Promise<void> };
  /** Pebble's issuing root, to verify served certificates against. */
  readonly root: string;
}

/**
 * Registers the file's before/after hooks: pebble on two free ports (the gateway's `web` and `websecure`), a
 * backend answering `answer`, a temporary folder named after `prefix`; filled in before the first test runs.
 */
export function pebbleSuite(prefix: string, options: Omit<PebbleOptions, 'httpPort' | 'tlsPort'> = {}, answer = 'ok'): PebbleSuite {
  const state = { ports: { web: 0, websecure: 0 }, dir: tempDir(prefix) } as { -readonly [K in keyof PebbleSuite]: PebbleSuite[K] };
  before(async () => {
    Object.assign(state.ports, { web: await stablePort(), websecure: await stablePort() });
    state.pebble = await startPebble({ ...options, httpPort: state.ports.web, tlsPort: state.ports.websecure });
    state.root = await state.pebble.issuerRoot();
    state.backend = await startServer((_req, res) => res.end(answer));
  });
  after(async () => {
    await state.backend?.close();
    await state.pebble?.stop();
    state.dir.remove();
  });
  return state;
}
