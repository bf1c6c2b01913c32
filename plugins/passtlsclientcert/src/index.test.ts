// passTLSClientCert: options as labels decode (or fail naming the field); the header values, case by case, on
// certificates made here (Traefik's pass_tls_client_cert_test.go cases); and through a real gateway whose TLS
// entrypoint requires a client certificate, in front of a backend that echoes the headers it received.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import http2 from 'node:http2';
import https from 'node:https';
import { startGateway, type EmbeddedGateway } from '@wharf/core';
import { decode, flatToTree } from '@wharf/core/config';
import tlsPlugin from '@wharf/plugin-tls';
import { makeCA, makeCert, startBackend, type Backend, type EchoBody, type NameAttribute, type Pem } from '@wharf/test-helpers';
import passTLSClientCert, { certInfo, goQueryEscape, infoHeader, pemHeader, schema, subjectAltNames } from './index.js';

/** The certificate text between its BEGIN and END lines, newlines removed: what Traefik's sanitize leaves. */
function strippedPEM(pem: string): string {
  return pem.replace('-----BEGIN CERTIFICATE-----', '').replace('-----END CERTIFICATE-----', '').replace(/\r?\n/g, '');
}

const ALL_DN = { country: true, province: true, locality: true, organization: true, organizationalUnit: true, serialNumber: true, commonName: true, domainComponent: true };

// Traefik's "complete" certificate, minus the parts a test CA cannot give (several ST/L/O/OU values work the same).
const CHEESE_SUBJECT: NameAttribute[] = [
  { shortName: 'DC', value: 'org' },
  { shortName: 'DC', value: 'cheese' },
  { shortName: 'C', value: 'FR' },
  { shortName: 'C', value: 'US' },
  { shortName: 'ST', value: 'Cheese org state' },
  { shortName: 'L', value: 'TOULOUSE' },
  { shortName: 'O', value: 'Cheese' },
  { shortName: 'O', value: 'Cheese 2' },
  { shortName: 'OU', value: 'Simple Signing Section' },
  { shortName: '2.5.4.5', value: '1234' },
  { shortName: 'CN', value: '*.cheese.com' },
];
const CHEESE_SANS = ['*.cheese.org', '*.cheese.net', 'test@cheese.org', '10.0.1.0', '::1', 'spiffe://cheese/client'];

describe('passTLSClientCert options', () => {
  const cases: Array<{ desc: string; labels: Record<string, string>; expected?: unknown; issues?: string[] }> = [
    { desc: 'nothing: pem false, no info', labels: {}, expected: { pem: false } },
    { desc: 'labels: case-insensitive keys, booleans coerced', labels: { PEM: 'true', 'info.notafter': 'true', 'info.subject.commonName': 'true' }, expected: { pem: true, info: { notAfter: true, subject: { commonName: true } } } },
    { desc: 'info=true turns the section on, empty', labels: { info: 'true' }, expected: { pem: false, info: {} } },
    { desc: 'a bad boolean names the field', labels: { 'info.sans': 'maybe' }, issues: ['info.sans: expected true or false (got "maybe")'] },
    { desc: 'the issuer has no organizationalUnit (as in Traefik)', labels: { 'info.issuer.organizationalUnit': 'true' }, issues: ["info.issuer.organizationalUnit: unknown field 'organizationalUnit' (did you mean 'organization'?)"] },
    { desc: 'an unknown option is named', labels: { pems: 'true' }, issues: ["pems: unknown field 'pems' (did you mean 'pem'?)"] },
  ];
  for (const { desc, labels, expected, issues } of cases) {
    test(desc, () => {
      const result = decode(schema, flatToTree(Object.entries(labels)));
      assert.deepEqual(result.issues.map((i) => `${i.source}: ${i.message}`), issues ?? []);
      if (expected) assert.deepEqual(result.value, expected);
    });
  }
});

describe('passTLSClientCert header values', () => {
  let ca: Pem;
  let cheese: X509Certificate;
  let minimal: X509Certificate;
  let signed: X509Certificate;
  let cheesePem: Pem;

  before(async () => {
    ca = await makeCA('Cheese CA');
    cheesePem = await makeCert(CHEESE_SANS, { subject: CHEESE_SUBJECT, usage: 'client' });
    cheese = new X509Certificate(cheesePem.cert);
    minimal = new X509Certificate((await makeCert([], { subject: [{ shortName: 'O', value: 'Cheese' }], usage: 'client' })).cert);
    signed = new X509Certificate((await makeCert(['client.test'], { ca, cn: 'client one', usage: 'client' })).cert);
  });

  const seconds = (date: string) => String(Math.floor(Date.parse(date) / 1000));

  test('info fields, in Traefik order, empty ones left out', () => {
    const cheeseDN = 'DC=org,DC=cheese,C=FR,C=US,ST=Cheese org state,L=TOULOUSE,O=Cheese,O=Cheese 2,OU=Simple Signing Section,SN=1234,CN=*.cheese.com';
    const cases = [
      { desc: 'everything', cert: () => cheese, info: { notAfter: true, notBefore: true, sans: true, serialNumber: true, subject: ALL_DN, issuer: ALL_DN }, expected: () => `Subject="${cheeseDN}";Issuer="${cheeseDN.replace(',OU=Simple Signing Section', '')}";SerialNumber="${BigInt(`0x${cheese.serialNumber}`)}";NB="${seconds(cheese.validFrom)}";NA="${seconds(cheese.validTo)}";SAN="*.cheese.org,*.cheese.net,test@cheese.org,10.0.1.0,::1,spiffe://cheese/client"` },
      { desc: 'nothing selected: empty', cert: () => cheese, info: {}, expected: () => '' },
      { desc: 'empty subject and issuer sections: empty', cert: () => cheese, info: { subject: {}, issuer: {} }, expected: () => '' },
      { desc: 'only some parts', cert: () => cheese, info: { subject: { organization: true }, issuer: { country: true }, notAfter: true }, expected: () => `Subject="O=Cheese,O=Cheese 2";Issuer="C=FR,C=US";NA="${seconds(cheese.validTo)}"` },
      { desc: 'parts the certificate lacks are left out, and a lone field', cert: () => minimal, info: { subject: ALL_DN, sans: true }, expected: () => 'Subject="O=Cheese"' },
      { desc: 'signed by a CA: its issuer', cert: () => signed, info: { subject: { commonName: true }, issuer: { commonName: true, organization: true }, sans: true }, expected: () => 'Subject="CN=client one";Issuer="CN=Cheese CA";SAN="client.test"' },
    ];
    for (const { desc, cert, info, expected } of cases) assert.equal(certInfo(cert(), info), expected(), desc);
  });

  test('validity is in unix seconds, around now, one year long', () => {
    const [nb, na] = [Number(seconds(cheese.validFrom)), Number(seconds(cheese.validTo))];
    assert.ok(Math.abs(nb - Date.now() / 1000) < 86_400 + 600, `NB ${nb}`);
    assert.equal(na - nb, 365 * 86_400);
    assert.match(certInfo(cheese, { notBefore: true }), /^NB="\d+"$/);
  });

  test('several certificates: comma-separated, then url-escaped as a whole', () => {
    const info = { subject: { commonName: true, organization: true } };
    assert.equal(infoHeader([signed, minimal], info), 'Subject%3D%22CN%3Dclient+one%22%2CSubject%3D%22O%3DCheese%22');
    assert.equal(decodeURIComponent(infoHeader([signed, minimal], info).replace(/\+/g, ' ')), 'Subject="CN=client one",Subject="O=Cheese"');
  });

  test('pem: the PEM body without lines, comma-separated, not escaped', () => {
    assert.equal(pemHeader([cheese]), strippedPEM(cheesePem.cert));
    assert.equal(pemHeader([cheese, signed]), `${strippedPEM(cheesePem.cert)},${strippedPEM(signed.toString())}`);
    assert.doesNotMatch(pemHeader([cheese]), /[\n%-]/);
  });

  test("subject alternative names: Go's grouping, IPs as Go writes them, quoted values", () => {
    const cases = [
      { san: undefined, expected: [] },
      { san: 'DNS:a.test', expected: ['a.test'] },
      { san: 'URI:spiffe://x/y, IP Address:10.0.0.1, email:b@c, DNS:a.test, DNS:b.test', expected: ['a.test', 'b.test', 'b@c', '10.0.0.1', 'spiffe://x/y'] },
      { san: 'IP Address:0:0:0:0:0:0:0:1, IP Address:2001:DB8:0:0:0:0:0:1, IP Address:0:0:0:0:0:FFFF:A00:1', expected: ['::1', '2001:db8::1', '10.0.0.1'] },
      { san: 'DNS:"a\\u002cb.test", DNS:c.test', expected: ['a,b.test', 'c.test'] },
      { san: 'othername:<unsupported>, DNS:c.test', expected: ['c.test'] },
    ];
    for (const { san, expected } of cases) assert.deepEqual(subjectAltNames(san), expected, String(san));
  });

  test("url.QueryEscape: Go's unreserved set, + for space, UTF-8 bytes", () => {
    const cases = [
      ['Subject="CN=a b"', 'Subject%3D%22CN%3Da+b%22'],
      ["-_.~!'()*", "-_.~%21%27%28%29%2A"],
      ['é/?&', '%C3%A9%2F%3F%26'],
    ];
    for (const [input, expected] of cases) assert.equal(goQueryEscape(input!), expected);
  });
});

describe('passTLSClientCert through a gateway with mutual TLS', () => {
  let backend: Backend;
  let gateway: EmbeddedGateway;
  let port: number;
  let client: Pem;
  let ca: Pem;
  let intermediate: Pem;
  let chained: Pem;

  before(async () => {
    ca = await makeCA('Client CA');
    client = await makeCert(['client.test', 'me@client.test'], { ca, subject: [{ shortName: 'O', value: 'Wharf tests' }, { shortName: 'CN', value: 'client one' }], usage: 'client' });
    intermediate = await makeCA('Client intermediate CA', ca);
    chained = await makeCert([], { ca: intermediate, cn: 'client two', usage: 'client' });
    const server = await makeCert(['required.test', 'optional.test']);
    backend = await startBackend('echo');
    const auth = (clientAuthType: string) => ({ clientAuth: { clientAuthType, caFiles: [ca.cert] } });
    const router = (host: string, options: string, middleware: string) => ({ rule: `Host(\`${host}\`)`, middlewares: [middleware], service: 'echo', tls: { options } });
    gateway = await startGateway({
      plugins: [tlsPlugin, passTLSClientCert],
      args: ['--entrypoints.websecure.address=127.0.0.1:0', '--entrypoints.websecure.http.tls=true'],
      dynamic: {
        http: {
          routers: { required: router('required.test', 'required', 'both'), optional: router('optional.test', 'optional', 'both') },
          middlewares: { both: { passTLSClientCert: { pem: true, info: { notAfter: true, sans: true, subject: { commonName: true, organization: true }, issuer: { commonName: true } } } } },
          services: { echo: { loadBalancer: { servers: [{ url: backend.url }] } } },
        },
        tls: {
          certificates: [{ certFile: server.cert, keyFile: server.key }],
          options: { required: auth('RequireAndVerifyClientCert'), optional: auth('VerifyClientCertIfGiven') },
        },
      },
    });
    port = gateway.address('websecure').port;
  });

  after(async () => {
    await gateway.stop();
    await backend.close();
  });

  /** One request over a fresh TLS connection; what the backend received. */
  function send(servername: string, cert: Pem | undefined, headers: Record<string, string> = {}): Promise<EchoBody> {
    return new Promise((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port, servername, path: '/', agent: false, rejectUnauthorized: false, headers: { host: servername, ...headers }, ...(cert ? { cert: cert.cert, key: cert.key } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as EchoBody) : reject(new Error(`status ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end();
    });
  }

  /** One request over HTTP/2 (ALPN h2), where the request's socket is the session's. */
  async function sendH2(servername: string, cert: Pem): Promise<EchoBody> {
    const session = http2.connect(`https://127.0.0.1:${port}`, { servername, cert: cert.cert, key: cert.key, rejectUnauthorized: false });
    try {
      return await new Promise((resolve, reject) => {
        session.on('error', reject);
        const stream = session.request({ ':path': '/', ':authority': servername });
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as EchoBody));
        stream.on('error', reject);
        stream.end();
      });
    } finally {
      session.close();
    }
  }

  const spoofed = { 'X-Forwarded-Tls-Client-Cert': 'forged', 'X-Forwarded-Tls-Client-Cert-Info': 'Subject%3D%22CN%3Dadmin%22' };

  test("the client's certificate, and its details, reach the service in place of the client's own values", async () => {
    const na = Math.floor(Date.parse(new X509Certificate(client.cert).validTo) / 1000);
    const expectedInfo = `Subject="O=Wharf tests,CN=client one";Issuer="CN=Client CA";NA="${na}";SAN="client.test,me@client.test"`;
    for (const host of ['required.test', 'optional.test']) {
      const { headers } = await send(host, client, spoofed);
      assert.equal(headers['x-forwarded-tls-client-cert'], strippedPEM(client.cert), host);
      assert.equal(headers['x-forwarded-tls-client-cert-info'], goQueryEscape(expectedInfo), host);
      assert.equal(decodeURIComponent(String(headers['x-forwarded-tls-client-cert-info']).replace(/\+/g, ' ')), expectedInfo, host);
    }
  });

  test('a chain the client sent: leaf then intermediate, without the root the gateway completed it with', async () => {
    const { headers } = await send('required.test', { cert: `${chained.cert.trim()}\n${intermediate.cert}`, key: chained.key });
    assert.equal(headers['x-forwarded-tls-client-cert'], `${strippedPEM(chained.cert)},${strippedPEM(intermediate.cert)}`);
    const info = decodeURIComponent(String(headers['x-forwarded-tls-client-cert-info']).replace(/\+/g, ' '));
    assert.match(info, /^Subject="CN=client two";Issuer="CN=Client intermediate CA";NA="\d+",Subject="CN=Client intermediate CA";Issuer="CN=Client CA";NA="\d+"$/);
  });

  test('a root the client sent too is passed, as Go passes every certificate the client sent', async () => {
    const { headers } = await send('required.test', { cert: `${chained.cert.trim()}\n${intermediate.cert.trim()}\n${ca.cert}`, key: chained.key });
    assert.equal(headers['x-forwarded-tls-client-cert'], `${strippedPEM(chained.cert)},${strippedPEM(intermediate.cert)},${strippedPEM(ca.cert)}`);
  });

  test('over HTTP/2 too', async () => {
    const { headers } = await sendH2('required.test', client);
    assert.equal(headers['x-forwarded-tls-client-cert'], strippedPEM(client.cert));
  });

  test('requests on one kept-alive connection all carry its certificate; another connection carries its own', async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, cert: client.cert, key: client.key, rejectUnauthorized: false });
    const other = new https.Agent({ keepAlive: true, maxSockets: 1, cert: chained.cert, key: chained.key, ca: [intermediate.cert], rejectUnauthorized: false });
    try {
      for (const [i, spoof] of [{}, spoofed, {}].entries()) {
        const { body, reused } = await sendOn(agent, spoof);
        assert.equal(reused, i > 0, `request ${i + 1} on the kept-alive connection`);
        assert.equal(body.headers['x-forwarded-tls-client-cert'], strippedPEM(client.cert), `request ${i + 1}`);
        assert.match(decodeInfo(body.headers['x-forwarded-tls-client-cert-info']), /^Subject="O=Wharf tests,CN=client one"/);
      }
      const { body } = await sendOn(other, spoofed);
      // Node's client sends the issuers it has in `ca` after its certificate.
      assert.equal(body.headers['x-forwarded-tls-client-cert'], `${strippedPEM(chained.cert)},${strippedPEM(intermediate.cert)}`);
      assert.match(decodeInfo(body.headers['x-forwarded-tls-client-cert-info']), /^Subject="CN=client two"/);
    } finally {
      agent.destroy();
      other.destroy();
    }
  });

  test('over HTTP/2, every stream of a connection carries its certificate', async () => {
    const session = http2.connect(`https://127.0.0.1:${port}`, { servername: 'required.test', cert: client.cert, key: client.key, rejectUnauthorized: false });
    try {
      const bodies = await Promise.all([1, 2, 3].map(() => streamOn(session)));
      for (const body of bodies) assert.equal(body.headers['x-forwarded-tls-client-cert'], strippedPEM(client.cert));
      assert.equal((await sendH2('required.test', { cert: `${chained.cert.trim()}\n${intermediate.cert}`, key: chained.key })).headers['x-forwarded-tls-client-cert'], `${strippedPEM(chained.cert)},${strippedPEM(intermediate.cert)}`);
    } finally {
      session.close();
    }
  });

  /** One request through `agent` (keep-alive, one socket); what the backend received and whether the socket was reused. */
  function sendOn(agent: https.Agent, headers: Record<string, string>): Promise<{ body: EchoBody; reused: boolean }> {
    return new Promise((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port, servername: 'required.test', path: '/', agent, headers: { host: 'required.test', ...headers } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => (res.statusCode === 200 ? resolve({ body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as EchoBody, reused: req.reusedSocket }) : reject(new Error(`status ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end();
    });
  }

  function decodeInfo(value: unknown): string {
    return decodeURIComponent(String(value).replace(/\+/g, ' '));
  }

  function streamOn(session: http2.ClientHttp2Session): Promise<EchoBody> {
    return new Promise((resolve, reject) => {
      const stream = session.request({ ':path': '/', ':authority': 'required.test' });
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as EchoBody));
      stream.on('error', reject);
      stream.end();
    });
  }

  test('without a client certificate the service receives neither header, even when the client sent them', async () => {
    const { headers } = await send('optional.test', undefined, spoofed);
    assert.equal(headers['x-forwarded-tls-client-cert'], undefined);
    assert.equal(headers['x-forwarded-tls-client-cert-info'], undefined);
  });

  test('the entrypoint still refuses a missing certificate where one is required', async () => {
    await assert.rejects(send('required.test', undefined));
  });
});
