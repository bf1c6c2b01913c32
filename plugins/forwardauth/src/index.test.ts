// forwardAuth through a real gateway, a real authentication server (node:http and https, written here) and a real
// backend: what the authentication server is sent (X-Forwarded-* trusted or not, filtered headers, body, method),
// what goes through on 2xx (copied headers, cookies, user name), what comes back otherwise (redirects to a login
// page, 401 bodies, Location handling), TLS to the auth server, connection reuse, an auth server that is down,
// and forwardAuth next to stripPrefix.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http, { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import https from 'node:https';
import { hostname } from 'node:os';
import type { TLSSocket } from 'node:tls';
import { definePlugin, onResponseHeaders, startGateway, Type, type EmbeddedGateway, type Next, type WharfContext } from '@wharf/core';
import stripPrefix from '@wharf/plugin-stripprefix';
import { closedPort, eventually, json, listen, makeCA, makeCert, request, startBackend, type Backend, type EchoBody, type Listening, type Reply } from '@wharf/test-helpers';
import forwardAuth from './index.js';

/** One request as the authentication server saw it. */
interface AuthSeen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** CN of the client certificate, for the TLS server. */
  clientCN?: string;
}

const LOGIN = 'https://sso.example/login?rd=https%3A%2F%2Fapp.example%2F';

/** The authentication server: what it answers depends on the path it is asked on (the middleware's address). */
function authServer(seen: AuthSeen[]) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const peer = (req.socket as Partial<TLSSocket>).getPeerCertificate?.();
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString(), clientCN: peer?.subject?.CN as string | undefined });
      answer(req, res);
    });
  };
}

function answer(req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '').split('?')[0];
  switch (path) {
    case '/allow':
      res.writeHead(200, [
        ['X-Auth-User', 'alice'],
        ['X-Auth-Group', 'g1'],
        ['X-Auth-Group', 'g2'],
        ['X-Auth-Secret', 'not for the service'],
        ['Foo-Bar', 'auth-value'],
        ['Set-Cookie', 'authCookie=Auth; Path=/'],
        ['Set-Cookie', 'authCookieNotAdded=Auth'],
      ].flat());
      res.end('ok');
      return;
    case '/deny':
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Basic realm="sso"', 'x-auth-user': 'mallory' });
      res.end('please log in\n');
      return;
    case '/login':
      res.writeHead(302, { location: LOGIN, 'content-type': 'text/html', 'set-cookie': ['csrf=abc; Path=/; HttpOnly', 'flow=1'] });
      res.end('<a href="login">Found</a>');
      return;
    case '/sub/relative':
      res.writeHead(302, { location: '/login?from=x' });
      res.end();
      return;
    case '/big':
      res.writeHead(200);
      res.end('x'.repeat(100));
      return;
    case '/check': {
      const admin = (req.headers.cookie ?? '').split(/;\s*/).includes('session=admin');
      if (admin) res.writeHead(200, { 'remote-user': 'admin' }).end();
      else res.writeHead(302, { location: '/login', 'set-cookie': 'rd=dashboard' }).end();
      return;
    }
    default:
      res.writeHead(200);
      res.end();
  }
}

/** Starts an authentication server and counts the connections made to it. */
async function startAuth(): Promise<Listening & { seen: AuthSeen[]; connections: () => number; open: () => number }> {
  const seen: AuthSeen[] = [];
  const server = http.createServer({ keepAliveTimeout: 60_000 }, authServer(seen));
  let connections = 0;
  let open = 0;
  server.on('connection', (socket) => {
    connections++;
    open++;
    socket.on('close', () => open--);
  });
  return { ...(await listen(server)), seen, connections: () => connections, open: () => open };
}

/** Reports what the access log reads (user name, refusing middleware) as response headers. */
const probe = definePlugin({
  name: 'probe',
  schema: Type.Object({}),
  create() {
    return async function probe(ctx: WharfContext, next: Next) {
      const report = (set: (name: string, value: string) => void) => {
        set('x-client-username', (ctx.state as { clientUsername?: string }).clientUsername ?? '-');
        set('x-rejected-by', ctx.wharf.rejectedBy ?? '-');
      };
      onResponseHeaders(ctx, (_status, headers) => report((name, value) => (headers[name] = value)));
      await next();
      if (!ctx.res.headersSent) report((name, value) => ctx.set(name, value));
    };
  },
});

/** A request with a Host header, on a fresh connection. */
function call(port: number, path: string, headers: OutgoingHttpHeaders = {}, more: { method?: string; body?: string } = {}): Promise<Reply> {
  return request(port, { path, headers: { host: 'app.example', ...headers }, ...more });
}

/** The last request the auth server saw. */
function lastSeen(seen: AuthSeen[]): AuthSeen {
  const last = seen.at(-1);
  assert.ok(last, 'the authentication server was asked');
  return last;
}

/** The X-Forwarded-* and X-Real-Ip headers of a request, sorted by name. */
function forwarded(headers: IncomingHttpHeaders): Record<string, unknown> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => k.startsWith('x-forwarded-') || k === 'x-real-ip').sort(([a], [b]) => a.localeCompare(b)));
}

describe('forwardAuth through a gateway', () => {
  let auth: Awaited<ReturnType<typeof startAuth>>;
  let backend: Backend;
  let cookieBackend: Backend;
  let gateway: EmbeddedGateway;
  let web: number;
  let edge: number;

  before(async () => {
    auth = await startAuth();
    backend = await startBackend('b');
    cookieBackend = await startBackend('c', (req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'set-cookie': ['authCookie=Backend', 'backendCookie=Backend'] }).end('service'));
    });
    const down = await closedPort();
    const a = auth.url;
    const middlewares: Record<string, unknown> = {
      allow: {
        forwardAuth: {
          address: `${a}/allow`,
          trustForwardHeader: false,
          authResponseHeaders: ['X-Auth-User', 'X-Auth-Group', 'X-Auth-Missing'],
          authResponseHeadersRegex: '^Foo-',
          addAuthCookiesToResponse: ['authCookie'],
          headerField: 'X-Auth-User',
        },
      },
      deny: { forwardAuth: { address: `${a}/deny`, headerField: 'X-Auth-User' } },
      login: { forwardAuth: { address: `${a}/login` } },
      relative: { forwardAuth: { address: `${a}/sub/relative?q=1` } },
      relativekeep: { forwardAuth: { address: `${a}/sub/relative`, preserveLocationHeader: true } },
      trusting: { forwardAuth: { address: `${a}/ok`, trustForwardHeader: true } },
      untrusting: { forwardAuth: { address: `${a}/ok`, trustForwardHeader: false } },
      legacy: { forwardAuth: { address: `${a}/ok` } },
      filtered: { forwardAuth: { address: `${a}/ok`, trustForwardHeader: false, authRequestHeaders: ['Cookie', 'X-Keep'] } },
      filteredtrusting: { forwardAuth: { address: `${a}/ok`, trustForwardHeader: true, authRequestHeaders: ['X-Keep'] } },
      body: { forwardAuth: { address: `${a}/body`, forwardBody: true, maxBodySize: 10 } },
      nobody: { forwardAuth: { address: `${a}/body` } },
      bodyagain: { forwardAuth: { address: `${a}/body?again`, forwardBody: true } },
      method: { forwardAuth: { address: `${a}/ok`, preserveRequestMethod: true } },
      signin: { forwardAuth: { address: `${a}/deny`, authSigninURL: 'https://sso.example/signin?a=1&b=2' } },
      bigresponse: { forwardAuth: { address: `${a}/big`, maxResponseBodySize: 5 } },
      down: { forwardAuth: { address: `http://127.0.0.1:${down}/verify` } },
      broken: { forwardAuth: { address: 'ftp://auth.example/' } },
      strip: { stripPrefix: { prefixes: ['/app', '/pre'] } },
      probe: { probe: {} },
    };
    const routers: Record<string, unknown> = {};
    for (const name of Object.keys(middlewares).filter((n) => !['strip', 'probe'].includes(n))) {
      routers[name] = { rule: `PathPrefix(\`/${name}/\`)`, middlewares: ['probe', name], service: 'b' };
    }
    routers.twice = { rule: 'PathPrefix(`/twice/`)', middlewares: ['body', 'bodyagain'], service: 'b' };
    routers.cookies = { rule: 'PathPrefix(`/cookies/`)', middlewares: ['allow'], service: 'c' };
    routers.authThenStrip = { rule: 'PathPrefix(`/app/`)', middlewares: ['trusting', 'strip'], service: 'b' };
    routers.stripThenAuth = { rule: 'PathPrefix(`/pre/`)', middlewares: ['strip', 'trusting'], service: 'b' };
    gateway = await startGateway({
      plugins: [forwardAuth, stripPrefix, probe],
      args: ['--entrypoints.web.address=127.0.0.1:0', '--entrypoints.edge.address=127.0.0.1:0', '--entrypoints.edge.forwardedHeaders.insecure=true'],
      dynamic: {
        http: {
          routers,
          middlewares,
          services: { b: { loadBalancer: { servers: [{ url: backend.url }] } }, c: { loadBalancer: { servers: [{ url: cookieBackend.url }] } } },
        },
      },
    });
    web = gateway.address('web').port;
    edge = gateway.address('edge').port;
  });

  after(async () => {
    await gateway.stop();
    await Promise.all([auth.close(), backend.close(), cookieBackend.close()]);
  });

  test('2xx: the request goes on with the chosen headers of the answer, replacing (or removing) the client\'s', async () => {
    const reply = await call(web, '/allow/page', {
      'x-auth-user': 'forged',
      'x-auth-group': 'admin',
      'x-auth-missing': 'forged',
      'foo-bar': 'client',
      'foo-baz': 'client',
      'x-other': 'kept',
    });
    assert.equal(reply.status, 200);
    const seen = json<EchoBody>(reply).headers;
    assert.equal(seen['x-auth-user'], 'alice');
    assert.equal(seen['x-auth-group'], 'g1, g2', 'both values of a repeated header');
    assert.equal(seen['x-auth-missing'], undefined, 'a listed header the auth server did not send is removed');
    assert.equal(seen['x-auth-secret'], undefined, 'an unlisted header of the answer is not copied');
    assert.equal(seen['foo-bar'], 'auth-value', 'authResponseHeadersRegex copies the matching answer header');
    assert.equal(seen['foo-baz'], undefined, 'and removes the matching request headers');
    assert.equal(seen['x-other'], 'kept');
    assert.equal(reply.headers['x-client-username'], 'alice', 'headerField names the user for the access log');
    assert.equal(reply.headers['x-rejected-by'], '-');
  });

  test('addAuthCookiesToResponse: the listed cookies of the auth server replace the service\'s of the same name', async () => {
    const reply = await call(web, '/cookies/');
    assert.equal(reply.body, 'service');
    assert.deepEqual(reply.headers['set-cookie'], ['backendCookie=Backend', 'authCookie=Auth; Path=/']);
  });

  test('anything else goes to the client as the auth server sent it', async () => {
    const cases: Array<{ desc: string; path: string; status: number; body: string; headers: Record<string, unknown>; user?: string }> = [
      {
        desc: 'a redirect to the login page, with its cookies and body',
        path: '/login/',
        status: 302,
        body: '<a href="login">Found</a>',
        headers: { location: LOGIN, 'set-cookie': ['csrf=abc; Path=/; HttpOnly', 'flow=1'], 'content-type': 'text/html' },
      },
      {
        desc: 'a 401 with its challenge and body; the user it names still reaches the access log',
        path: '/deny/',
        status: 401,
        body: 'please log in\n',
        headers: { 'www-authenticate': 'Basic realm="sso"', 'content-type': 'text/plain', 'content-length': '14' },
        user: 'mallory',
      },
      { desc: 'a relative Location resolved against address', path: '/relative/', status: 302, body: '', headers: { location: `${auth.url}/login?from=x` } },
      { desc: 'a relative Location kept with preserveLocationHeader', path: '/relativekeep/', status: 302, body: '', headers: { location: '/login?from=x' } },
      {
        desc: 'authSigninURL turns a 401 into a redirect',
        path: '/signin/',
        status: 302,
        body: '<a href="https://sso.example/signin?a=1&amp;b=2">Found</a>.\n\n',
        headers: { location: 'https://sso.example/signin?a=1&b=2', 'content-type': 'text/html; charset=utf-8', 'www-authenticate': undefined },
      },
      { desc: 'an answer larger than maxResponseBodySize', path: '/bigresponse/', status: 401, body: '', headers: { 'content-length': '0' } },
    ];
    const before = backend.requests.length;
    for (const { desc, path, status, body, headers, user } of cases) {
      const reply = await call(web, path);
      assert.equal(reply.status, status, desc);
      assert.equal(reply.body, body, desc);
      for (const [name, value] of Object.entries(headers)) assert.deepEqual(reply.headers[name], value, `${desc}: ${name}`);
      assert.equal(reply.headers['x-rejected-by'], `${path.slice(1, -1)}@inline`, `${desc}: rejectedBy`);
      assert.equal(reply.headers['x-client-username'], user ?? '-', `${desc}: user`);
    }
    assert.equal(backend.requests.length, before, 'no refused request reached the service');
  });

  test('an auth server that cannot be reached: 500 with an empty body, as Traefik', async () => {
    const before = backend.requests.length;
    const reply = await call(web, '/down/');
    assert.equal(reply.status, 500);
    assert.equal(reply.body, '');
    assert.equal(reply.headers['x-rejected-by'], 'down@inline');
    assert.equal(backend.requests.length, before);
  });

  test('a bad address disables only its router, naming the field', async () => {
    assert.equal(gateway.info.routers['broken@inline']?.status, 'disabled');
    assert.match(gateway.info.routers['broken@inline']?.errors?.join('\n') ?? '', /address: the scheme must be http or https, got "ftp:\/\/auth\.example\/"/);
    assert.equal((await call(web, '/broken/')).status, 404);
  });

  describe('what the auth server is sent', () => {
    const spoofed = {
      'x-forwarded-for': '203.0.113.9',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'spoof.example',
      'x-forwarded-uri': '/spoof',
      'x-forwarded-method': 'DELETE',
      'x-real-ip': '203.0.113.9',
    };
    const server = hostname();
    const cases: Array<{ desc: string; entrypoint: 'web' | 'edge'; path: string; expected: Record<string, string> }> = [
      {
        desc: 'trustForwardHeader=true, untrusted peer: the entrypoint dropped the client\'s, the gateway\'s own are sent',
        entrypoint: 'web',
        path: '/trusting/x?q=1',
        expected: { 'x-forwarded-for': '127.0.0.1', 'x-forwarded-host': 'app.example', 'x-forwarded-method': 'GET', 'x-forwarded-port': '80', 'x-forwarded-proto': 'http', 'x-forwarded-server': server, 'x-forwarded-uri': '/trusting/x?q=1', 'x-real-ip': '127.0.0.1' },
      },
      {
        desc: 'trustForwardHeader=true, trusted peer: its headers pass, the peer is appended to X-Forwarded-For',
        entrypoint: 'edge',
        path: '/trusting/x?q=1',
        expected: { 'x-forwarded-for': '203.0.113.9, 127.0.0.1', 'x-forwarded-host': 'spoof.example', 'x-forwarded-method': 'DELETE', 'x-forwarded-port': '443', 'x-forwarded-proto': 'https', 'x-forwarded-server': server, 'x-forwarded-uri': '/spoof', 'x-real-ip': '203.0.113.9' },
      },
      {
        desc: 'trustForwardHeader=false, even from a trusted peer: only the gateway\'s own',
        entrypoint: 'edge',
        path: '/untrusting/x?q=1',
        expected: { 'x-forwarded-for': '127.0.0.1', 'x-forwarded-host': 'app.example', 'x-forwarded-method': 'GET', 'x-forwarded-port': '80', 'x-forwarded-proto': 'http', 'x-forwarded-uri': '/untrusting/x?q=1' },
      },
      {
        desc: 'trustForwardHeader unset (legacy): five replaced, the other forwarded headers pass as the entrypoint left them',
        entrypoint: 'edge',
        path: '/legacy/x?q=1',
        expected: { 'x-forwarded-for': '127.0.0.1', 'x-forwarded-host': 'app.example', 'x-forwarded-method': 'GET', 'x-forwarded-port': '443', 'x-forwarded-proto': 'http', 'x-forwarded-server': server, 'x-forwarded-uri': '/legacy/x?q=1', 'x-real-ip': '203.0.113.9' },
      },
      {
        desc: 'trustForwardHeader unset, untrusted peer',
        entrypoint: 'web',
        path: '/legacy/x?q=1',
        expected: { 'x-forwarded-for': '127.0.0.1', 'x-forwarded-host': 'app.example', 'x-forwarded-method': 'GET', 'x-forwarded-port': '80', 'x-forwarded-proto': 'http', 'x-forwarded-server': server, 'x-forwarded-uri': '/legacy/x?q=1', 'x-real-ip': '127.0.0.1' },
      },
    ];
    for (const { desc, entrypoint, path, expected } of cases) {
      test(desc, async () => {
        const reply = await call(entrypoint === 'web' ? web : edge, path, { ...spoofed, accept: 'text/html' });
        assert.equal(reply.status, 200);
        const seen = lastSeen(auth.seen);
        assert.deepEqual(forwarded(seen.headers), expected);
        assert.equal(seen.method, 'GET');
        assert.equal(seen.url, '/ok');
        assert.equal(seen.headers.host, auth.url.slice('http://'.length), 'Host is the auth server\'s');
        assert.equal(seen.headers.accept, 'text/html');
        assert.equal(seen.headers['user-agent'], undefined, 'no User-Agent of its own when the client sent none');
      });
    }

    test('trustForwardHeader=false drops the underscore spellings of the forwarded headers too', async () => {
      await call(edge, '/untrusting/', { x_forwarded_for: '203.0.113.9', 'x_forwarded_host': 'spoof.example', x_custom: 'kept' });
      const seen = lastSeen(auth.seen).headers;
      assert.equal(seen.x_forwarded_for, undefined);
      assert.equal(seen.x_forwarded_host, undefined);
      assert.equal(seen.x_custom, 'kept');
      assert.equal(seen['x-forwarded-for'], '127.0.0.1');
    });

    test('trustForwardHeader=true with authRequestHeaders: the forwarded headers are kept besides the listed ones', async () => {
      await call(edge, '/filteredtrusting/', { ...spoofed, 'x-keep': 'yes', accept: '*/*' });
      const seen = lastSeen(auth.seen).headers;
      assert.equal(seen['x-keep'], 'yes');
      assert.equal(seen.accept, undefined);
      assert.equal(seen['x-forwarded-host'], 'spoof.example');
      assert.equal(seen['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
      assert.equal(seen['x-real-ip'], '203.0.113.9');
    });

    test('hop-by-hop headers and those the Connection header names are not sent', async () => {
      await call(web, '/trusting/', { connection: 'x-drop-me, close', 'x-drop-me': '1', te: 'trailers', 'keep-alive': 'timeout=5', 'x-stay': '1' });
      const seen = lastSeen(auth.seen).headers;
      assert.equal(seen['x-drop-me'], undefined);
      assert.equal(seen.te, undefined);
      assert.equal(seen['keep-alive'], undefined);
      assert.equal(seen['x-stay'], '1');
    });

    test('authRequestHeaders: only the listed headers, plus the forwarded ones', async () => {
      await call(web, '/filtered/', { cookie: 'session=1', 'x-keep': 'yes', 'x-drop': 'no', accept: '*/*', authorization: 'Bearer t' });
      const seen = lastSeen(auth.seen).headers;
      assert.deepEqual(Object.keys(seen).filter((k) => !k.startsWith('x-forwarded-') && k !== 'host' && k !== 'connection').sort(), ['cookie', 'x-keep']);
      assert.deepEqual(Object.keys(forwarded(seen)), ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-method', 'x-forwarded-port', 'x-forwarded-proto', 'x-forwarded-uri']);
    });

    test('forwardBody: the auth server gets the body, and the service still gets it after', async () => {
      const reply = await call(web, '/body/', { 'content-type': 'text/plain' }, { method: 'POST', body: 'hello' });
      assert.equal(reply.status, 200);
      const seen = lastSeen(auth.seen);
      assert.equal(seen.method, 'GET', 'the method is GET unless preserveRequestMethod');
      assert.equal(seen.body, 'hello');
      assert.equal(seen.headers['content-length'], '5');
      const echoed = json<EchoBody>(reply);
      assert.equal(echoed.method, 'POST');
      assert.equal(echoed.bodyBytes, 5);
    });

    test('forwardBody: a body over maxBodySize is answered 401 and goes nowhere', async () => {
      const asked = auth.seen.length;
      const served = backend.requests.length;
      const reply = await call(web, '/body/', {}, { method: 'POST', body: 'x'.repeat(11) });
      assert.equal(reply.status, 401);
      assert.equal(reply.body, '');
      assert.equal(auth.seen.length, asked);
      assert.equal(backend.requests.length, served);
      assert.equal((await call(web, '/body/', {}, { method: 'POST', body: 'x'.repeat(10) })).status, 200, 'exactly maxBodySize is fine');
    });

    test('forwardBody: a chunked body sent after 100 Continue reaches both', async () => {
      const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: web, method: 'POST', path: '/body/', agent: false, headers: { host: 'app.example', expect: '100-continue', 'transfer-encoding': 'chunked' } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        });
        req.on('error', reject);
        // The body goes only once the server said 100 Continue (Node's server says it before the chain runs).
        req.on('continue', () => {
          req.write('abc');
          req.end('def');
        });
      });
      assert.equal(reply.status, 200);
      assert.equal(lastSeen(auth.seen).body, 'abcdef');
      assert.equal(JSON.parse(reply.body).bodyBytes, 6);
    });

    test('forwardBody twice in a chain: both auth servers and the service get the body', async () => {
      const reply = await call(web, '/twice/', {}, { method: 'POST', body: 'twice' });
      assert.equal(reply.status, 200);
      assert.deepEqual(auth.seen.slice(-2).map((r) => [r.url, r.body]), [['/body', 'twice'], ['/body?again', 'twice']]);
      assert.equal(json<EchoBody>(reply).bodyBytes, 5);
    });

    test('without forwardBody the auth server gets no body, the service the whole one', async () => {
      const reply = await call(web, '/nobody/', {}, { method: 'PUT', body: 'payload' });
      assert.equal(lastSeen(auth.seen).body, '');
      assert.equal(lastSeen(auth.seen).headers['content-length'], undefined);
      assert.equal(json<EchoBody>(reply).bodyBytes, 7);
    });

    test('preserveRequestMethod: the auth server is asked with the request\'s method', async () => {
      await call(web, '/method/', {}, { method: 'DELETE' });
      assert.equal(lastSeen(auth.seen).method, 'DELETE');
      assert.equal(lastSeen(auth.seen).headers['x-forwarded-method'], 'DELETE');
    });
  });

  describe('next to stripPrefix', () => {
    test('forwardAuth before stripPrefix: the auth server sees the original path, the service the stripped one', async () => {
      const reply = await call(web, '/app/page?x=1');
      assert.equal(lastSeen(auth.seen).headers['x-forwarded-uri'], '/app/page?x=1');
      assert.equal(lastSeen(auth.seen).headers['x-forwarded-prefix'], undefined);
      const echoed = json<EchoBody>(reply);
      assert.equal(echoed.url, '/page?x=1');
      assert.equal(echoed.headers['x-forwarded-prefix'], '/app');
    });

    test('stripPrefix before forwardAuth: the auth server sees the stripped path and the prefix', async () => {
      await call(web, '/pre/page?x=1');
      assert.equal(lastSeen(auth.seen).headers['x-forwarded-uri'], '/page?x=1');
      assert.equal(lastSeen(auth.seen).headers['x-forwarded-prefix'], '/pre');
    });
  });
});

describe('forwardAuth connections to the auth server', () => {
  let auth: Awaited<ReturnType<typeof startAuth>>;
  let tlsAuth: Listening<https.Server>;
  let tlsSeen: AuthSeen[];
  let backend: Backend;
  let gateway: EmbeddedGateway;
  let port: number;

  before(async () => {
    auth = await startAuth();
    backend = await startBackend('b');
    const ca = await makeCA();
    const serverCert = await makeCert(['127.0.0.1'], { ca });
    const client = await makeCert(['wharf-client'], { ca, usage: 'client' });
    tlsSeen = [];
    tlsAuth = await listen(https.createServer({ ...serverCert, ca: ca.cert, requestCert: true, rejectUnauthorized: false }, authServer(tlsSeen)));
    const middlewares: Record<string, unknown> = {
      pooled: { forwardAuth: { address: `${auth.url}/allow`, trustForwardHeader: false } },
      tlsca: { forwardAuth: { address: `${tlsAuth.url}/allow`, tls: { ca: ca.cert } } },
      tlsnoca: { forwardAuth: { address: `${tlsAuth.url}/allow` } },
      tlsinsecure: { forwardAuth: { address: `${tlsAuth.url}/allow`, tls: { insecureSkipVerify: true } } },
      tlsclient: { forwardAuth: { address: `${tlsAuth.url}/allow`, tls: { ca: ca.cert, cert: client.cert, key: client.key } } },
    };
    const routers = Object.fromEntries(Object.keys(middlewares).map((name) => [name, { rule: `PathPrefix(\`/${name}/\`)`, middlewares: [name], service: 'b' }]));
    gateway = await startGateway({
      plugins: [forwardAuth],
      args: ['--entrypoints.web.address=127.0.0.1:0'],
      dynamic: { http: { routers, middlewares, services: { b: { loadBalancer: { servers: [{ url: backend.url }] } } } } },
    });
    port = gateway.address('web').port;
  });

  after(async () => {
    await gateway.stop();
    await Promise.all([auth.close(), tlsAuth.close(), backend.close()]);
  });

  test('requests reuse one kept-alive connection to the auth server', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await call(port, '/pooled/')).status, 200);
    assert.equal(auth.seen.length, 5);
    assert.equal(auth.connections(), 1);
  });

  test('https: verified with tls.ca, refused without it (500), accepted with insecureSkipVerify; tls.cert is presented', async () => {
    assert.equal((await call(port, '/tlsca/')).status, 200);
    assert.equal(tlsSeen.at(-1)?.clientCN, undefined, 'no client certificate unless configured');
    const asked = tlsSeen.length;
    assert.equal((await call(port, '/tlsnoca/')).status, 500, 'a certificate from an unknown CA is refused');
    assert.equal(tlsSeen.length, asked);
    assert.equal((await call(port, '/tlsinsecure/')).status, 200);
    assert.equal((await call(port, '/tlsclient/')).status, 200);
    assert.equal(tlsSeen.at(-1)?.clientCN, 'wharf-client');
  });

  test('a new configuration retires the middleware and closes its connections', async () => {
    assert.equal(auth.open(), 1, 'the connection kept alive since the first test');
    gateway.configure({ http: { routers: { other: { rule: 'PathPrefix(`/other/`)', service: 'b' } }, services: { b: { loadBalancer: { servers: [{ url: backend.url }] } } } } });
    await eventually(() => auth.open() === 0, 'the retired pool closed its connection to the auth server');
  });
});
