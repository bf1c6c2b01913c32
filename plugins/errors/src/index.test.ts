// errors: options from labels and files (errors naming the field), Traefik's documented behaviour as a table of
// cases through a real gateway in front of a real application and a real error page service, Wharf's own
// 502/503 answers replaced by pages, streaming of answers that are not caught, and the upstream connection of a
// caught answer reused.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import http2 from 'node:http2';
import { definePlugin, startGateway, Type, type EmbeddedGateway } from '@wharf/core';
import { decode, flatToTree } from '@wharf/core/config';
import headers from '@wharf/plugin-headers';
import healthCheck from '@wharf/plugin-healthcheck';
import tls from '@wharf/plugin-tls';
import { closedPort, eventually, request, startServer, type Listening } from '@wharf/test-helpers';
import errors, { compileQuery, parseRewrites, parseStatus, queryEscape, schema } from './index.js';

describe('errors options', () => {
  const cases: Array<{ desc: string; labels?: Record<string, string>; file?: unknown; expected?: unknown; issues?: string[] }> = [
    {
      desc: "Traefik's label example",
      labels: { status: '500,501,503,505-599', 'statusRewrites.418': '404', 'statusRewrites.502-504': '500', service: 'error-handler-service', query: '/{status}.html' },
      expected: { status: ['500', '501', '503', '505-599'], statusRewrites: { '418': 404, '502-504': 500 }, service: 'error-handler-service', query: '/{status}.html' },
    },
    {
      desc: "Traefik's file example",
      file: { status: ['500', '501', '503', '505-599'], statusRewrites: { '418': 404, '502-504': 500 }, service: 'error-handler-service', query: '/{status}.html' },
      expected: { status: ['500', '501', '503', '505-599'], statusRewrites: { '418': 404, '502-504': 500 }, service: 'error-handler-service', query: '/{status}.html' },
    },
    { desc: 'defaults: no status, query /', labels: { service: 'pages' }, expected: { status: [], service: 'pages', query: '' } },
    { desc: 'keys are case-insensitive', labels: { SERVICE: 'pages', ErrorRequestHeaders: 'X-Request-Id,Accept' }, expected: { status: [], service: 'pages', query: '', errorRequestHeaders: ['X-Request-Id', 'Accept'] } },
    { desc: 'errorRequestHeaders: an empty file list forwards none', file: { service: 'p', errorRequestHeaders: [] }, expected: { status: [], service: 'p', query: '', errorRequestHeaders: [] } },
    { desc: 'service is required', labels: { status: '500' }, issues: ['service: is required'] },
    { desc: 'a rewrite target is a number', labels: { service: 'p', 'statusRewrites.418': 'teapot' }, issues: ['statusRewrites.418: expected a whole number (got "teapot")'] },
    { desc: 'a rewrite target is a status code', file: { service: 'p', statusRewrites: { '418': 42 } }, issues: ['statusRewrites.418: must be >= 100'] },
    { desc: 'unknown option named', labels: { service: 'p', querry: '/' }, issues: ["querry: unknown field 'querry' (did you mean 'query'?)"] },
  ];
  for (const { desc, labels, file, expected, issues } of cases) {
    test(desc, () => {
      const result = decode(schema, labels ? flatToTree(Object.entries(labels)) : file);
      assert.deepEqual(result.issues.map((i) => `${i.source}: ${i.message}`), issues ?? []);
      if (expected) assert.deepEqual(result.value, expected);
    });
  }

  const invalid: Array<{ desc: string; options: Record<string, unknown>; error: RegExp }> = [
    { desc: 'a status that is not a code', options: { status: ['500', '5xx'] }, error: /^Error: status\[1\]: expected a status code or a range such as 404 or 500-599, got "5xx"/ },
    { desc: 'a reversed range', options: { status: ['599-500'] }, error: /^Error: status\[0\]: the range "599-500" is reversed \(write 500-599\)/ },
    { desc: 'a code below 100', options: { status: ['099'] }, error: /^Error: status\[0\]: status codes go from 100 to 999, got "099"/ },
    { desc: 'a bad rewrite key', options: { statusRewrites: { '4xx': 404 } }, error: /^Error: statusRewrites\.4xx: expected a status code or a range/ },
    { desc: 'overlapping rewrites', options: { statusRewrites: { '500-599': 500, '502': 503 } }, error: /^Error: statusRewrites\.(502|500-599): overlaps "(500-599|502)"; a status may match one entry only/ },
    { desc: 'a query with a space', options: { query: '/{status} page.html' }, error: /^Error: query: must not contain spaces or control characters/ },
    { desc: 'a header name that is not one', options: { errorRequestHeaders: ['X-Ok', 'Bad Header'] }, error: /^Error: errorRequestHeaders\[1\]: not a header name, got "Bad Header"/ },
  ];
  for (const { desc, options, error } of invalid) {
    test(`validate: ${desc}`, () => assert.throws(() => errors.validate!({ status: [], service: 'p', query: '', ...options } as never), error));
  }
});

describe('errors building blocks', () => {
  test('status: codes, ranges and comma-separated entries', () => {
    assert.deepEqual(parseStatus(['500-501', '503', '404,418']), [[500, 501], [503, 503], [404, 404], [418, 418]]);
  });

  test('statusRewrites: ranges to codes', () => {
    assert.deepEqual(parseRewrites({ '418': 404, '502-504': 500 }), [{ from: [418, 418], to: 404 }, { from: [502, 504], to: 500 }]);
  });

  test('query: "/" prepended once, placeholders filled, {url} computed only when used', () => {
    let asked = 0;
    const url = () => String(++asked);
    assert.equal(compileQuery('')(503, 503, url), '/');
    assert.equal(compileQuery('{status}.html')(503, 503, url), '/503.html');
    assert.equal(compileQuery('//x')(503, 503, url), '//x');
    assert.equal(asked, 0);
    assert.equal(compileQuery('/{status}/{originalStatus}?u={url}&s={status}')(404, 418, url), '/404/418?u=1&s=404');
  });

  test("{url} is escaped as Go's url.QueryEscape", () => {
    assert.equal(queryEscape('http://localhost/test?foo=bar&baz=buz'), 'http%3A%2F%2Flocalhost%2Ftest%3Ffoo%3Dbar%26baz%3Dbuz');
    assert.equal(queryEscape("a b!'()*~-_."), "a+b%21%27%28%29%2A~-_.");
  });
});

interface PageSeen {
  page: true;
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  bodyBytes: number;
}

/** Test middleware answering through the Koa API (as auth middlewares do), or throwing as ctx.throw does. */
const answer = definePlugin({
  name: 'answer',
  schema: Type.Object({ status: Type.Integer(), throw: Type.Boolean({ default: false }) }),
  create({ status, throw: throws }) {
    return async function answer(ctx) {
      if (throws) ctx.throw(status, 'thrown');
      ctx.status = status;
      ctx.set('WWW-Authenticate', 'Basic realm="test"');
      ctx.set('X-Inner-Answer', 'yes');
      ctx.body = `answered ${status} in the chain`;
    };
  },
});

describe('errors through a gateway', () => {
  let app: Listening;
  let pages: Listening;
  let sick: Listening;
  let gateway: EmbeddedGateway;
  let port: number;
  let releaseStream: (() => void) | undefined;
  /** Answers held by /hang, ended when the suite ends. */
  const hanging: ServerResponse[] = [];
  const appConnections = new Set<unknown>();

  /** /status/<code> answers that code; /stream sends its head and a first chunk, then waits to be released. */
  function application(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    const code = /^\/status\/(\d+)/.exec(req.url ?? '');
    if (code) {
      const status = Number(code[1]);
      res.writeHead(status, { 'content-type': 'text/plain', 'x-app': 'yes' });
      res.end(status === 304 ? undefined : `app says ${status}\n`);
    } else if (req.url === '/stream') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first chunk;');
      releaseStream = () => res.end('last chunk');
    } else if (req.url?.startsWith('/test')) {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('app unavailable');
    } else if (req.url === '/hang') {
      hanging.push(res);
    } else if (req.url === '/big-error') {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(Buffer.alloc(256 * 1024, 'e'));
    } else {
      res.end(`app ${req.method} ${req.url}`);
    }
  }

  /** /404-page answers 404, anything else 200 with what the page request looked like. */
  function pageService(req: IncomingMessage, res: ServerResponse): void {
    let bodyBytes = 0;
    req.on('data', (chunk: Buffer) => (bodyBytes += chunk.length));
    req.on('end', () => {
      const seen: PageSeen = { page: true, method: req.method!, url: req.url!, headers: req.headers, bodyBytes };
      res.writeHead(req.url === '/404-page' ? 404 : 200, { 'content-type': 'text/html; charset=utf-8', 'x-page': 'yes' });
      res.end(JSON.stringify(seen));
    });
  }

  before(async () => {
    app = await startServer(application);
    app.server.on('connection', (socket) => appConnections.add(socket));
    pages = await startServer(pageService);
    // Its own server: its health checks must not count among the application's connections.
    sick = await startServer((req, res) => {
      req.resume();
      res.writeHead(500);
      res.end('unhealthy');
    });
    const down = `http://127.0.0.1:${await closedPort()}`;
    const route = (host: string, middlewares: string[], service = 'app') => ({ rule: `Host(\`${host}\`)`, middlewares, service });
    gateway = await startGateway({
      plugins: [errors, headers, healthCheck, answer],
      args: ['--entrypoints.web.address=127.0.0.1:0'],
      dynamic: {
        http: {
          routers: {
            app: route('app.test', ['pages-5xx']),
            rewrites: route('rewrite.test', ['rewriting']),
            url: route('url.test', ['with-url']),
            allow: route('allow.test', ['only-request-id']),
            none: route('none.test', ['no-headers']),
            forced: route('forced.test', ['to-404-page']),
            down: route('down.test', ['gateway-errors'], 'down'),
            empty: route('empty.test', ['gateway-errors'], 'empty'),
            unhealthy: route('unhealthy.test', ['gateway-errors'], 'unhealthy'),
            slow: route('slow.test', ['gateway-errors'], 'slow'),
            koa: route('koa.test', ['pages-4xx', 'answer-401']),
            thrown: route('thrown.test', ['pages-4xx', 'throw-403']),
            'koa-pass': route('koa-pass.test', ['pages-5xx', 'answer-401']),
            'page-down': route('page-down.test', ['to-missing-pages']),
            hooks: route('hooks.test', ['outer-headers', 'pages-5xx', 'inner-headers']),
            'bad-status': route('bad-status.test', ['bad-status']),
            'no-service': route('no-service.test', ['no-service']),
          },
          middlewares: {
            'pages-5xx': { errors: { status: ['500-501', '503-599'], service: 'pages', query: '/{status}.html' } },
            'pages-4xx': { errors: { status: ['400-499'], service: 'pages', query: '/{status}.html' } },
            rewriting: { errors: { status: ['418', '502-504'], statusRewrites: { '418': 404, '502-504': 500 }, service: 'pages', query: '/{status}.html?was={originalStatus}' } },
            'with-url': { errors: { status: ['503'], service: 'pages', query: '/?status={status}&url={url}' } },
            'only-request-id': { errors: { status: ['503'], service: 'pages', errorRequestHeaders: ['X-Request-Id'] } },
            'no-headers': { errors: { status: ['503'], service: 'pages', errorRequestHeaders: [] } },
            'to-404-page': { errors: { status: ['500-599'], service: 'pages', query: '/404-page' } },
            'gateway-errors': { errors: { status: ['502-504'], service: 'pages', query: '/{status}.html' } },
            'to-missing-pages': { errors: { status: ['500'], service: 'gone', query: '/{status}.html' } },
            'answer-401': { answer: { status: 401 } },
            'throw-403': { answer: { status: 403, throw: true } },
            'outer-headers': { headers: { customResponseHeaders: { 'X-Outer': 'yes' } } },
            'inner-headers': { headers: { customResponseHeaders: { 'X-Inner': 'yes' } } },
            'bad-status': { errors: { status: ['5xx'], service: 'pages' } },
            'no-service': { errors: { status: ['500'], service: 'nope' } },
          },
          services: {
            app: { loadBalancer: { servers: [{ url: app.url }] } },
            pages: { loadBalancer: { servers: [{ url: pages.url }] } },
            down: { loadBalancer: { servers: [{ url: down }] } },
            gone: { loadBalancer: { servers: [{ url: down }] } },
            empty: { loadBalancer: { servers: [] } },
            unhealthy: { loadBalancer: { servers: [{ url: sick.url }], healthCheck: { path: '/health', interval: '100ms', timeout: '1s' } } },
            slow: { loadBalancer: { servers: [{ url: app.url }], serversTransport: 'short' } },
          },
          serversTransports: { short: { forwardingTimeouts: { responseHeaderTimeout: '100ms' } } },
        },
      },
    });
    port = gateway.address('web').port;
  });

  after(async () => {
    for (const res of hanging.splice(0)) res.end();
    await gateway.stop();
    await app.close();
    await pages.close();
    await sick.close();
  });

  const get = (host: string, path: string, extra: http.OutgoingHttpHeaders = {}, method = 'GET') => request(port, { path, method, headers: { host, ...extra } });
  const pageSeen = (body: string) => JSON.parse(body) as PageSeen;

  const table: Array<{ desc: string; host: string; path: string; status: number; body: RegExp; page?: Partial<Pick<PageSeen, 'method' | 'url'>> }> = [
    { desc: 'no error: the answer passes', host: 'app.test', path: '/status/200', status: 200, body: /^app says 200/ },
    { desc: 'no error, but not a 200', host: 'app.test', path: '/status/206', status: 206, body: /^app says 206/ },
    { desc: 'a 304, no body', host: 'app.test', path: '/status/304', status: 304, body: /^$/ },
    { desc: 'in the range: the page, with the status', host: 'app.test', path: '/status/500', status: 500, body: /"page":true/, page: { method: 'GET', url: '/500.html' } },
    { desc: 'not in the range (502 is left out)', host: 'app.test', path: '/status/502', status: 502, body: /^app says 502/ },
    { desc: 'a single code, {status} filled in', host: 'app.test', path: '/status/503', status: 503, body: /"page":true/, page: { url: '/503.html' } },
    { desc: 'statusRewrites: 418 → 404, {originalStatus} the caught one', host: 'rewrite.test', path: '/status/418', status: 404, body: /"page":true/, page: { url: '/404.html?was=418' } },
    { desc: 'statusRewrites by range: 503 → 500', host: 'rewrite.test', path: '/status/503', status: 500, body: /"page":true/, page: { url: '/500.html?was=503' } },
    { desc: '{url}: the escaped request URL', host: 'url.test', path: '/test?foo=bar&baz=buz', status: 503, body: /"page":true/, page: { url: '/?status=503&url=http%3A%2F%2Furl.test%2Ftest%3Ffoo%3Dbar%26baz%3Dbuz' } },
    { desc: "the page service's own status is not the client's", host: 'forced.test', path: '/status/500', status: 500, body: /"url":"\/404-page"/ },
  ];
  for (const { desc, host, path, status, body, page } of table) {
    test(desc, async () => {
      const reply = await get(host, path);
      assert.equal(reply.status, status, reply.body);
      assert.match(reply.body, body);
      if (page) {
        const seen = pageSeen(reply.body);
        for (const [key, value] of Object.entries(page)) assert.equal(seen[key as keyof PageSeen], value, key);
        assert.equal(reply.headers['content-type'], 'text/html; charset=utf-8');
        assert.equal(reply.headers['x-app'], undefined, 'no header of the caught answer');
      }
    });
  }

  test('the page request is a GET without body, with the client’s headers and Host', async () => {
    const reply = await request(port, {
      path: '/status/503',
      method: 'POST',
      headers: { host: 'app.test', authorization: 'Bearer secret', 'x-request-id': 'trace-abc', 'content-type': 'text/plain' },
      body: 'a request body',
    });
    assert.equal(reply.status, 503);
    const seen = pageSeen(reply.body);
    assert.equal(seen.method, 'GET');
    assert.equal(seen.bodyBytes, 0);
    assert.equal(seen.headers['content-length'], undefined);
    assert.equal(seen.headers.host, 'app.test');
    assert.equal(seen.headers.authorization, 'Bearer secret');
    assert.equal(seen.headers['x-request-id'], 'trace-abc');
  });

  test('errorRequestHeaders: only the listed headers, or none; Host always', async () => {
    const sent = { authorization: 'Bearer secret', 'x-request-id': 'trace-abc' };
    const only = pageSeen((await get('allow.test', '/status/503', sent)).body).headers;
    assert.equal(only['x-request-id'], 'trace-abc');
    assert.equal(only.authorization, undefined);
    assert.equal(only.host, 'allow.test');
    const none = pageSeen((await get('none.test', '/status/503', sent)).body).headers;
    assert.equal(none['x-request-id'], undefined);
    assert.equal(none.authorization, undefined);
    assert.equal(none.host, 'none.test');
  });

  test("Wharf's own 502 (server unreachable) and 503 (no server) get the page", async () => {
    const bad = await get('down.test', '/');
    assert.equal(bad.status, 502);
    assert.equal(pageSeen(bad.body).url, '/502.html');
    assert.equal(bad.headers['content-type'], 'text/html; charset=utf-8');
    const maintenance = await get('empty.test', '/');
    assert.equal(maintenance.status, 503);
    assert.equal(pageSeen(maintenance.body).url, '/503.html');
  });

  test("Wharf's own 504 (no answer within responseHeaderTimeout) gets the page", async () => {
    const late = await get('slow.test', '/hang');
    assert.equal(late.status, 504);
    assert.equal(pageSeen(late.body).url, '/504.html');
    assert.equal(late.headers['x-page'], 'yes');
  });

  test('a maintenance page while the service has no healthy server (healthCheck)', async () => {
    const reply = await eventually(async () => {
      const r = await get('unhealthy.test', '/');
      return r.status === 503 ? r : undefined;
    }, 'the only server taken out of rotation by its health check', 5_000);
    assert.equal(pageSeen(reply.body).url, '/503.html');
    assert.equal(reply.headers['x-page'], 'yes');
  });

  test('an answer made in the chain (Koa API) is replaced, its headers dropped', async () => {
    const reply = await get('koa.test', '/');
    assert.equal(reply.status, 401);
    assert.equal(pageSeen(reply.body).url, '/401.html');
    assert.equal(reply.headers['x-inner-answer'], undefined);
    assert.equal(reply.headers['content-type'], 'text/html; charset=utf-8');
    const passed = await get('koa-pass.test', '/');
    assert.equal(passed.status, 401);
    assert.equal(passed.body, 'answered 401 in the chain');
    assert.equal(passed.headers['x-inner-answer'], 'yes');
  });

  test('ctx.throw(403) in the chain gets the page', async () => {
    const reply = await get('thrown.test', '/');
    assert.equal(reply.status, 403);
    assert.equal(pageSeen(reply.body).url, '/403.html');
  });

  test('the page service unreachable: the caught status with its 502 text', async () => {
    const reply = await get('page-down.test', '/status/500');
    assert.equal(reply.status, 500);
    assert.equal(reply.body, 'Bad Gateway');
  });

  test('response headers of middlewares outside apply to the page, of those inside to the caught answer only', async () => {
    const caught = await get('hooks.test', '/status/500');
    assert.equal(caught.status, 500);
    assert.equal(caught.headers['x-outer'], 'yes');
    assert.equal(caught.headers['x-inner'], undefined);
    const passed = await get('hooks.test', '/status/200');
    assert.equal(passed.headers['x-outer'], 'yes');
    assert.equal(passed.headers['x-inner'], 'yes');
  });

  test('an answer that is not caught streams through: the first chunk arrives before the upstream ends', async () => {
    const chunks: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      const req = http.get({ port, path: '/stream', headers: { host: 'app.test' } }, (res) => {
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          chunks.push(c);
          if (chunks.length === 1) releaseStream!();
        });
        res.on('end', resolve);
      });
      req.on('error', reject);
    });
    await done;
    assert.equal(chunks[0], 'first chunk;');
    assert.equal(chunks.join(''), 'first chunk;last chunk');
  });

  test("a caught answer's body is read and dropped: the upstream connection is reused", async () => {
    const before = appConnections.size;
    for (let i = 0; i < 3; i++) {
      const reply = await get('app.test', '/big-error');
      assert.equal(reply.status, 500);
      assert.equal(pageSeen(reply.body).url, '/500.html');
    }
    // The gateway's pool may have had an idle connection already: at most one new one for three big error answers.
    assert.ok(appConnections.size - before <= 1, `${appConnections.size - before} new upstream connections`);
  });

  test('bad options or a missing service disable the middleware and its routers, naming the field', async () => {
    const bad = gateway.info.routers['bad-status@inline']!;
    assert.equal(bad.status, 'disabled');
    assert.match(bad.errors!.join('\n'), /middleware 'bad-status@inline' is disabled: status\[0\]: expected a status code or a range such as 404 or 500-599, got "5xx"/);
    const missing = gateway.info.routers['no-service@inline']!;
    assert.equal(missing.status, 'disabled');
    assert.match(missing.errors!.join('\n'), /middleware 'no-service@inline' is disabled: service: service 'nope@inline' does not exist/);
    assert.equal(gateway.info.routers['app@inline']!.status, 'enabled');
    assert.ok(gateway.info.services['pages@inline']!.usedBy.includes('pages-5xx@inline'));
  });
});

describe('errors over TLS and HTTP/2', () => {
  let app: Listening;
  let pages: Listening;
  let gateway: EmbeddedGateway;

  before(async () => {
    app = await startServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(503);
        res.end('down');
      });
    });
    pages = await startServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers }));
    });
    gateway = await startGateway({
      plugins: [errors, tls],
      args: ['--entrypoints.websecure.address=127.0.0.1:0', '--entrypoints.websecure.http.tls=true'],
      dynamic: {
        http: {
          routers: { app: { rule: 'Host(`app.test`)', middlewares: ['pages'], service: 'app' } },
          middlewares: { pages: { errors: { status: ['503'], service: 'pages', query: '/page?url={url}', errorRequestHeaders: ['Authorization'] } } },
          services: { app: { loadBalancer: { servers: [{ url: app.url }] } }, pages: { loadBalancer: { servers: [{ url: pages.url }] } } },
        },
      },
    });
  });

  after(async () => {
    await gateway.stop();
    await app.close();
    await pages.close();
  });

  test('an h2 POST with a body gets the page: a GET, headers filtered, {url} with https', async () => {
    const session = http2.connect(`https://127.0.0.1:${gateway.address('websecure').port}`, { servername: 'app.test', rejectUnauthorized: false });
    const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      session.on('error', reject);
      const req = session.request({ ':method': 'POST', ':path': '/cart?id=1', ':authority': 'app.test', authorization: 'Bearer x', cookie: 'a=b' });
      let status = 0;
      let body = '';
      req.on('response', (headers) => (status = Number(headers[':status'])));
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => resolve({ status, body }));
      req.on('error', reject);
      req.end('a body');
    });
    session.close();
    assert.equal(reply.status, 503);
    const seen = JSON.parse(reply.body) as { method: string; url: string; headers: Record<string, string> };
    assert.equal(seen.method, 'GET');
    assert.equal(seen.url, '/page?url=https%3A%2F%2Fapp.test%2Fcart%3Fid%3D1');
    assert.equal(seen.headers.authorization, 'Bearer x');
    assert.equal(seen.headers.cookie, undefined);
    assert.equal(seen.headers['x-forwarded-proto'], 'https');
  });
});
