// The access log end to end on loopback: exact lines per format, errors, rejections, filters, fields, redaction, opt-outs, failing files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { definePlugin, onResponseHeaders, Type, type WharfContext, type Next } from '@wharf/core';
import { closedPort, startServer, tempDir } from '@wharf/test-helpers';
import { gateway, memoryLog, readLines, request, route } from './harness.test.helper.js';

const HELLO = 'hello\n';
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function helloBackend() {
  return startServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(HELLO), 'set-cookie': 'sid=secret', 'x-backend': 'b1' });
    res.end(HELLO);
  });
}

/**
 * A CLF line's two unknowable values — the [time] and the trailing duration — are checked against the
 * window the request ran in, then replaced by TIME and D so the rest of the line can be compared exactly.
 */
function normalise(line: string, before: number, after: number): string {
  const time = /\[(\d\d)\/(\w{3})\/(\d{4}):(\d\d):(\d\d):(\d\d) \+0000\]/.exec(line);
  assert.ok(time, `no UTC timestamp in ${line}`);
  const [, dd, mon, yyyy, hh, mm, ss] = time;
  const ms = Date.UTC(Number(yyyy), MONTHS.indexOf(mon!), Number(dd), Number(hh), Number(mm), Number(ss));
  assert.ok(ms >= Math.floor(before / 1000) * 1000 && ms <= after, `timestamp ${time[0]} outside the request`);
  let out = line.replace(time[0], '[TIME]');
  const duration = / (\d+)ms$/.exec(out);
  if (duration) {
    assert.ok(Number(duration[1]) <= after - before, `duration ${duration[1]}ms longer than the request`);
    out = out.replace(/ \d+ms$/, ' Dms');
  }
  return out;
}

const KNOWN_REQUEST = { headers: { 'user-agent': 'wharf-test/1', referer: 'http://ref.example/' } };
const KEEP_UA_REFERER = ['--accessLog.fields.headers.names.User-Agent=keep', '--accessLog.fields.headers.names.Referer=keep'];

for (const format of ['common', 'genericCLF'] as const) {
  test(`${format}: the exact line for a known proxied request`, async () => {
    const backend = await helloBackend();
    const tmp = tempDir('wharf-accesslog-');
    const file = join(tmp.path, 'access.log');
    const gw = await gateway({ args: [`--accessLog.format=${format}`, `--accessLog.filePath=${file}`, ...KEEP_UA_REFERER], dynamic: route('hello', backend.url) });
    try {
      const before = Date.now();
      const res = await request(`${gw.web}/hello?x=1`, KNOWN_REQUEST);
      const after = Date.now();
      assert.equal(res.body, HELLO);
      await gw.stop();
      const lines = readLines(file);
      assert.equal(lines.length, 1);
      const generic = '127.0.0.1 - - [TIME] "GET /hello?x=1 HTTP/1.1" 200 6 "http://ref.example/" "wharf-test/1"';
      const expected = format === 'common' ? `${generic} 1 "hello@inline" "${backend.url}" Dms` : generic;
      assert.equal(normalise(lines[0]!, before, after), expected);
    } finally {
      await gw.stop();
      await backend.close();
      tmp.remove();
    }
  });
}

test('json: Traefik field names and values for a known proxied request', async () => {
  const backend = await helloBackend();
  const tmp = tempDir('wharf-accesslog-');
  const file = join(tmp.path, 'access.log');
  const gw = await gateway({ args: ['--accessLog.format=json', `--accessLog.filePath=${file}`, ...KEEP_UA_REFERER], dynamic: route('hello', backend.url) });
  try {
    const before = Date.now();
    await request(`${gw.web}/hello?x=1`, KNOWN_REQUEST);
    const after = Date.now();
    const port = gw.address('web').port;
    await gw.stop();
    const lines = readLines(file);
    assert.equal(lines.length, 1);
    const { time, StartUTC, StartLocal, Duration, OriginDuration, Overhead, ClientAddr, ClientPort, ...fixed } = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.deepEqual(fixed, {
      level: 'info',
      entryPointName: 'web',
      RouterName: 'hello@inline',
      ServiceName: 'hello@inline',
      ServiceURL: backend.url,
      ServiceAddr: backend.url.slice('http://'.length),
      ClientHost: '127.0.0.1',
      ClientUsername: '-',
      RequestAddr: `127.0.0.1:${port}`,
      RequestHost: '127.0.0.1',
      RequestPort: String(port),
      RequestMethod: 'GET',
      RequestPath: '/hello?x=1',
      RequestProtocol: 'HTTP/1.1',
      RequestScheme: 'http',
      RequestContentSize: 0,
      OriginContentSize: 6,
      OriginStatus: 200,
      DownstreamStatus: 200,
      DownstreamContentSize: 6,
      RequestCount: 1,
      RetryAttempts: 0,
      'request_User-Agent': 'wharf-test/1',
      request_Referer: 'http://ref.example/',
      msg: '',
    });
    const start = Date.parse(StartUTC as string);
    assert.ok(start >= before && start <= after, 'StartUTC within the request');
    assert.equal(Date.parse(StartLocal as string), start, 'StartLocal is the same instant');
    assert.match(time as string, /^\d{4}-\d\d-\d\dT/);
    assert.equal(ClientAddr, `127.0.0.1:${ClientPort}`);
    assert.ok(typeof Duration === 'number' && typeof OriginDuration === 'number' && OriginDuration > 0 && Duration >= OriginDuration);
    assert.equal(Overhead, Duration - OriginDuration);
    assert.ok(Duration <= (after - before + 1) * 1e6, 'Duration in nanoseconds');
  } finally {
    await gw.stop();
    await backend.close();
    tmp.remove();
  }
});

/** What a client sends as UTF-8 bytes, as Node's http client takes header values: one char per byte. */
function utf8Bytes(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

test('UTF-8 on the wire is logged as the text the client sent, invalid bytes as U+FFFD, in json and CLF', async () => {
  const backend = await helloBackend();
  const tmp = tempDir('wharf-accesslog-');
  const jsonFile = join(tmp.path, 'json.log');
  const clfFile = join(tmp.path, 'clf.log');
  const args = [...KEEP_UA_REFERER, '--entrypoints.web.forwardedHeaders.insecure=true'];
  const json = await gateway({ args: ['--accessLog.format=json', `--accessLog.filePath=${jsonFile}`, ...args], dynamic: route('hello', backend.url) });
  const clf = await gateway({ args: [`--accessLog.filePath=${clfFile}`, ...args], dynamic: route('hello', backend.url) });
  try {
    const headers = { 'user-agent': utf8Bytes('café/1 ☕'), referer: 'http://ref.example/\xff', 'x-forwarded-for': utf8Bytes('203.0.113.7, ünïcode') };
    for (const gw of [json, clf]) assert.equal((await request(`${gw.web}/hello`, { headers })).status, 200);
    await json.stop();
    await clf.stop();
    const line = JSON.parse(readLines(jsonFile)[0]!);
    assert.equal(line['request_User-Agent'], 'café/1 ☕');
    assert.equal(line.request_Referer, 'http://ref.example/\ufffd');
    assert.equal(line.ClientHost, '203.0.113.7, ünïcode');
    assert.match(readLines(clfFile)[0]!, /^203\.0\.113\.7, ünïcode - - \[.*\] "GET \/hello HTTP\/1\.1" 200 6 "http:\/\/ref\.example\/\ufffd" "café\/1 ☕" /);
  } finally {
    await json.stop();
    await clf.stop();
    await backend.close();
    tmp.remove();
  }
});

/** Names the user of the X-User header (base64, as in Basic credentials) in ctx.state.clientUsername, as basicAuth does. */
const namesUser = definePlugin({
  name: 'namesuser',
  schema: Type.Object({}),
  create: () =>
    async function namesUser(ctx: WharfContext, next: Next) {
      const user = Buffer.from(ctx.get('x-user'), 'base64').toString('utf8');
      if (user !== '') ctx.state.clientUsername = user;
      await next();
    },
});

test('ClientUsername is the user an auth middleware named, control characters escaped, in json and CLF', async () => {
  const backend = await helloBackend();
  const tmp = tempDir('wharf-accesslog-');
  const jsonFile = join(tmp.path, 'json.log');
  const clfFile = join(tmp.path, 'clf.log');
  const dynamic = route('hello', backend.url, { middlewares: ['user'] });
  (dynamic.http as Record<string, unknown>).middlewares = { user: { namesuser: {} } };
  const json = await gateway({ args: ['--accessLog.format=json', `--accessLog.filePath=${jsonFile}`], dynamic, plugins: [namesUser] });
  const clf = await gateway({ args: [`--accessLog.filePath=${clfFile}`], dynamic, plugins: [namesUser] });
  try {
    for (const gw of [json, clf]) {
      for (const user of ['alice', 'eve\u001b[31m', '']) {
        const headers: Record<string, string> = user === '' ? {} : { 'x-user': Buffer.from(user).toString('base64') };
        assert.equal((await request(`${gw.web}/hello`, { headers })).status, 200);
      }
    }
    await json.stop();
    await clf.stop();
    assert.deepEqual(readLines(jsonFile).map((l) => (JSON.parse(l) as { ClientUsername: string }).ClientUsername), ['alice', 'eve\\x1b[31m', '-']);
    assert.deepEqual(readLines(clfFile).map((l) => l.split(' ')[2]), ['alice', 'eve\\x1b[31m', '-']);
  } finally {
    await json.stop();
    await clf.stop();
    await backend.close();
    tmp.remove();
  }
});

test('json: ClientHost is X-Forwarded-For only from a trusted peer', async () => {
  const backend = await helloBackend();
  const tmp = tempDir('wharf-accesslog-');
  const file = join(tmp.path, 'access.log');
  const gw = await gateway({
    args: ['--accessLog.format=json', `--accessLog.filePath=${file}`, '--entrypoints.trusted.address=127.0.0.1:0', '--entrypoints.trusted.forwardedHeaders.insecure=true'],
    dynamic: route('hello', backend.url),
  });
  try {
    const headers = { 'x-forwarded-for': '203.0.113.7, 10.0.0.1' };
    await request(`${gw.web}/untrusted`, { headers });
    await request(`http://127.0.0.1:${gw.address('trusted').port}/trusted`, { headers });
    await gw.stop();
    const got = readLines(file).map((l) => JSON.parse(l) as { RequestPath: string; ClientHost: string });
    assert.deepEqual(got.map((f) => `${f.RequestPath} ${f.ClientHost}`), ['/untrusted 127.0.0.1', '/trusted 203.0.113.7, 10.0.0.1']);
  } finally {
    await gw.stop();
    await backend.close();
    tmp.remove();
  }
});

const reject429 = definePlugin({
  name: 'reject429',
  schema: Type.Object({}, { additionalProperties: false }),
  create: () =>
    async function reject429(ctx: WharfContext) {
      ctx.status = 429;
      ctx.body = 'Too Many Requests';
    },
});

test('unmatched 404, upstream 502 and a plugin 429 keep their status, router and service', async () => {
  const tmp = tempDir('wharf-accesslog-');
  const file = join(tmp.path, 'access.log');
  const dead = `http://127.0.0.1:${await closedPort()}`;
  const gw = await gateway({
    args: [`--accessLog.filePath=${file}`],
    plugins: [reject429],
    dynamic: {
      http: {
        routers: {
          down: { rule: 'Path(`/down`)', service: 'down' },
          limited: { rule: 'Path(`/limited`)', service: 'down', middlewares: ['limit'] },
        },
        middlewares: { limit: { reject429: {} } },
        services: { down: { loadBalancer: { servers: [{ url: dead }] } } },
      },
    },
  });
  try {
    const window: [number, number][] = [];
    for (const [path, status] of [['/nope', 404], ['/down', 502], ['/limited', 429]] as const) {
      const before = Date.now();
      assert.equal((await request(`${gw.web}${path}`)).status, status);
      window.push([before, Date.now()]);
    }
    await gw.stop();
    const lines = readLines(file);
    assert.deepEqual(
      lines.map((l, i) => normalise(l, window[i]![0], window[i]![1])),
      [
        '127.0.0.1 - - [TIME] "GET /nope HTTP/1.1" 404 19 "-" "-" 1 "-" "-" Dms',
        `127.0.0.1 - - [TIME] "GET /down HTTP/1.1" 502 11 "-" "-" 2 "down@inline" "${dead}" Dms`,
        '127.0.0.1 - - [TIME] "GET /limited HTTP/1.1" 429 17 "-" "-" 3 "limited@inline" "-" Dms',
      ],
    );
  } finally {
    await gw.stop();
    tmp.remove();
  }
});

test('json: a 502 written by the proxy is the origin status, as in Traefik; a 429 names its service but no URL and no origin', async () => {
  const tmp = tempDir('wharf-accesslog-');
  const file = join(tmp.path, 'access.log');
  const dead = `http://127.0.0.1:${await closedPort()}`;
  const gw = await gateway({
    args: ['--accessLog.format=json', `--accessLog.filePath=${file}`],
    plugins: [reject429],
    dynamic: {
      http: {
        routers: { down: { rule: 'Path(`/down`)', service: 'down' }, limited: { rule: 'Path(`/limited`)', service: 'down', middlewares: ['limit'] } },
        middlewares: { limit: { reject429: {} } },
        services: { down: { loadBalancer: { servers: [{ url: dead }] } } },
      },
    },
  });
  try {
    await request(`${gw.web}/down`);
    await request(`${gw.web}/limited`);
    await gw.stop();
    const [down, limited] = readLines(file).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(down!.DownstreamStatus, 502);
    assert.equal(down!.ServiceURL, dead);
    // Traefik records what its proxy wrote in the upstream's place (http.StatusText: 'Bad Gateway').
    assert.equal(down!.OriginStatus, 502);
    assert.equal(down!.OriginContentSize, 'Bad Gateway'.length);
    assert.equal(limited!.DownstreamStatus, 429);
    assert.equal(limited!.OriginStatus, undefined, 'a middleware answer has no origin');
    assert.equal(limited!.RouterName, 'limited@inline');
    assert.equal(limited!.ServiceName, 'down@inline');
    assert.equal(limited!.ServiceURL, undefined);
  } finally {
    await gw.stop();
    tmp.remove();
  }
});

const markRetried = definePlugin({
  name: 'markRetried',
  schema: Type.Object({}, { additionalProperties: false }),
  create: () =>
    async function markRetried(ctx: WharfContext, next: Next) {
      if (ctx.path === '/retried') ctx.wharf.retryAttempts = 2;
      await next();
    },
});

test('filters: status codes, retry attempts and minDuration; any match keeps the line', async () => {
  const backend = await helloBackend();
  const cases: { desc: string; args: string[]; expected: string[] }[] = [
    { desc: 'status codes', args: ['--accessLog.filters.statusCodes=404,500-599'], expected: ['/missing 404'] },
    { desc: 'retried requests', args: ['--accessLog.filters.statusCodes=599', '--accessLog.filters.retryAttempts'], expected: ['/retried 200'] },
    { desc: 'nothing is slower than an hour', args: ['--accessLog.filters.statusCodes=599', '--accessLog.filters.minDuration=1h'], expected: [] },
    { desc: 'everything is slower than a nanosecond', args: ['--accessLog.filters.minDuration=1ns'], expected: ['/ok 200', '/retried 200', '/missing 404'] },
  ];
  try {
    for (const c of cases) {
      const tmp = tempDir('wharf-accesslog-');
      const file = join(tmp.path, 'access.log');
      const dynamic = {
        http: {
          routers: { app: { rule: 'Path(`/ok`) || Path(`/retried`)', service: 'app', middlewares: ['mark'] } },
          middlewares: { mark: { markRetried: {} } },
          services: { app: { loadBalancer: { servers: [{ url: backend.url }] } } },
        },
      };
      const gw = await gateway({ args: ['--accessLog.format=json', `--accessLog.filePath=${file}`, ...c.args], plugins: [markRetried], dynamic });
      try {
        for (const path of ['/ok', '/retried', '/missing']) await request(`${gw.web}${path}`);
        await gw.stop();
        const got = readLines(file).map((l) => JSON.parse(l) as { RequestPath: string; DownstreamStatus: number });
        assert.deepEqual(got.map((f) => `${f.RequestPath} ${f.DownstreamStatus}`), c.expected, c.desc);
      } finally {
        await gw.stop();
        tmp.remove();
      }
    }
  } finally {
    await backend.close();
  }
});

test('invalid filters and unknown field names fail at start-up, naming the option', async () => {
  await assert.rejects(gateway({ args: ['--accessLog.filters.statusCodes=2xx'] }), /accessLog\.filters\.statusCodes: '2xx'/);
  await assert.rejects(gateway({ args: ['--accessLog.fields.names.RequestPth=drop'] }), /accessLog\.fields\.names\.RequestPth: unknown field/);
  await assert.rejects(gateway({ args: ['--accessLog.format=xml'] }), /accessLog\.format/);
});

test('fields: defaultMode drop with named keeps; StartUTC dropped switches CLF to local time', async () => {
  const backend = await helloBackend();
  const tmp = tempDir('wharf-accesslog-');
  try {
    const jsonFile = join(tmp.path, 'json.log');
    const gw = await gateway({
      args: ['--accessLog.format=json', `--accessLog.filePath=${jsonFile}`, '--accessLog.fields.defaultMode=drop', '--accessLog.fields.names.RequestPath=keep', '--accessLog.fields.names.downstreamstatus=keep'],
      dynamic: route('app', backend.url),
    });
    await request(`${gw.web}/kept`);
    await gw.stop();
    const [json] = readLines(jsonFile).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(Object.keys(json!).sort(), ['DownstreamStatus', 'RequestPath', 'level', 'msg', 'time']);
    assert.equal(json!.RequestPath, '/kept');

    const clfFile = join(tmp.path, 'common.log');
    const clf = await gateway({
      args: [`--accessLog.filePath=${clfFile}`, '--accessLog.fields.names.StartUTC=drop', '--accessLog.fields.names.ClientHost=drop', '--accessLog.fields.names.RouterName=drop'],
      dynamic: route('app', backend.url),
    });
    const before = new Date();
    await request(`${clf.web}/local`);
    await clf.stop();
    const [line] = readLines(clfFile);
    const offset = -before.getTimezoneOffset();
    const zone = `${offset < 0 ? '-' : '+'}${String(Math.floor(Math.abs(offset) / 60)).padStart(2, '0')}${String(Math.abs(offset) % 60).padStart(2, '0')}`;
    assert.match(line!, new RegExp(`^- - - \\[\\d\\d/\\w{3}/\\d{4}:\\d\\d:\\d\\d:\\d\\d \\${zone}\\] "GET /local HTTP/1\\.1" 200 6 "-" "-" 1 "-" "${backend.url}" \\d+ms$`));
  } finally {
    await backend.close();
    tmp.remove();
  }
});

const tagResponse = definePlugin({
  name: 'tagResponse',
  schema: Type.Object({}, { additionalProperties: false }),
  create: () =>
    async function tagResponse(ctx: WharfContext, next: Next) {
      onResponseHeaders(ctx, (_status, headers) => {
        headers['x-served-by'] = 'wharf';
      });
      await next();
    },
});

test('queryParameters: dropped (Traefik) or redacted by name in RequestPath, json and CLF alike', async () => {
  const backend = await helloBackend();
  const tmp = tempDir('wharf-accesslog-');
  const jsonFile = join(tmp.path, 'json.log');
  const clfFile = join(tmp.path, 'clf.log');
  const query = ['--accessLog.fields.queryParameters.defaultMode=drop', '--accessLog.fields.queryParameters.names.page=keep', '--accessLog.fields.queryParameters.names.token=redact'];
  const json = await gateway({ args: ['--accessLog.format=json', `--accessLog.filePath=${jsonFile}`, ...query], dynamic: route('hello', backend.url) });
  const clf = await gateway({ args: [`--accessLog.filePath=${clfFile}`, '--accessLog.fields.queryParameters.defaultMode=drop'], dynamic: route('hello', backend.url) });
  try {
    for (const gw of [json, clf]) assert.equal((await request(`${gw.web}/hello?q=secret&page=2&token=abc`)).status, 200);
    await json.stop();
    await clf.stop();
    assert.equal(JSON.parse(readLines(jsonFile)[0]!).RequestPath, '/hello?page=2&token=REDACTED');
    assert.match(readLines(clfFile)[0]!, /"GET \/hello HTTP\/1\.1" 200 /);
  } finally {
    await json.stop();
    await clf.stop();
    await backend.close();
    tmp.remove();
  }
});

test('headers: kept, redacted and dropped; credentials never in clear; origin vs downstream', async () => {
  const backend = await helloBackend();
  const tmp = tempDir('wharf-accesslog-');
  const file = join(tmp.path, 'access.log');
  const gw = await gateway({
    args: [
      '--accessLog.format=json',
      `--accessLog.filePath=${file}`,
      '--accessLog.fields.defaultMode=drop',
      '--accessLog.fields.headers.defaultMode=keep',
      '--accessLog.fields.headers.names.Authorization=keep',
      '--accessLog.fields.headers.names.X-Api-Key=redact',
      '--accessLog.fields.headers.names.Date=drop',
      '--accessLog.fields.headers.names.Connection=drop',
    ],
    plugins: [tagResponse],
    dynamic: {
      http: {
        routers: { app: { rule: 'PathPrefix(`/`)', service: 'app', middlewares: ['tag'] } },
        middlewares: { tag: { tagResponse: {} } },
        services: { app: { loadBalancer: { servers: [{ url: backend.url }] } } },
      },
    },
  });
  try {
    await request(`${gw.web}/h`, { headers: { authorization: 'Bearer s3cret', cookie: 'sid=1', 'x-api-key': 'k', 'x-trace': 't1' } });
    await gw.stop();
    const [fields] = readLines(file).map((l) => JSON.parse(l) as Record<string, unknown>);
    const { level: _level, time: _time, msg: _msg, ...headers } = fields!;
    assert.deepEqual(headers, {
      request_Authorization: 'REDACTED',
      'request_X-Api-Key': 'REDACTED',
      'request_X-Trace': 't1',
      'origin_Content-Type': 'text/plain',
      'origin_Content-Length': '6',
      'origin_X-Backend': 'b1',
      'downstream_Content-Type': 'text/plain',
      'downstream_Content-Length': '6',
      'downstream_X-Backend': 'b1',
      'downstream_X-Served-By': 'wharf',
    });
    assert.ok(!readLines(file)[0]!.includes('s3cret') && !readLines(file)[0]!.includes('sid='), 'no credential value anywhere in the line');
  } finally {
    await gw.stop();
    await backend.close();
    tmp.remove();
  }
});

test('observability: router and entrypoint opt-outs; a router can opt back in on a quiet entrypoint', async () => {
  const backend = await helloBackend();
  const tmp = tempDir('wharf-accesslog-');
  const file = join(tmp.path, 'access.log');
  const service = { loadBalancer: { servers: [{ url: backend.url }] } };
  const gw = await gateway({
    args: ['--accessLog.format=json', `--accessLog.filePath=${file}`, '--entrypoints.quiet.address=127.0.0.1:0', '--entrypoints.quiet.observability.accessLogs=false'],
    dynamic: {
      http: {
        routers: {
          silent: { rule: 'Path(`/silent`)', service: 'app', entryPoints: ['web'], observability: { accessLogs: false } },
          loud: { rule: 'Path(`/loud`)', service: 'app', entryPoints: ['web'] },
          quietDefault: { rule: 'Path(`/q-default`)', service: 'app', entryPoints: ['quiet'] },
          quietOptIn: { rule: 'Path(`/q-opt-in`)', service: 'app', entryPoints: ['quiet'], observability: { accessLogs: true } },
        },
        services: { app: service },
      },
    },
  });
  try {
    const quiet = `http://127.0.0.1:${gw.address('quiet').port}`;
    for (const url of [`${gw.web}/silent`, `${gw.web}/loud`, `${gw.web}/unmatched`, `${quiet}/q-default`, `${quiet}/q-opt-in`, `${quiet}/unmatched`]) await request(url);
    await gw.stop();
    const got = readLines(file).map((l) => JSON.parse(l) as { entryPointName: string; RequestPath: string });
    assert.deepEqual(got.map((f) => `${f.entryPointName} ${f.RequestPath}`), ['web /loud', 'web /unmatched', 'quiet /q-opt-in']);
  } finally {
    await gw.stop();
    await backend.close();
    tmp.remove();
  }
});

/** Like ping: answers /ping before routing (an entrypoint middleware) and offers health@internal. */
const health = definePlugin({
  name: 'health',
  schema: Type.Object({}, { additionalProperties: false }),
  setup(_config, host) {
    const answer = (ctx: WharfContext) => {
      ctx.body = 'OK';
    };
    host.services.provide('health', async function healthService(ctx: WharfContext) {
      answer(ctx);
    });
    host.entrypoints.use(
      async function pingLike(ctx: WharfContext, next: Next) {
        if (ctx.path === '/ping') return answer(ctx);
        await next();
      },
      { order: 100 },
    );
  },
});

test('internals: entrypoint answers (/ping) and @internal services are logged only with addInternals', async () => {
  for (const addInternals of [false, true]) {
    const tmp = tempDir('wharf-accesslog-');
    const file = join(tmp.path, 'access.log');
    const gw = await gateway({
      args: ['--accessLog.format=json', `--accessLog.filePath=${file}`, `--accessLog.addInternals=${addInternals}`],
      plugins: [health],
      dynamic: { http: { routers: { health: { rule: 'Path(`/health`)', service: 'health@internal' } } } },
    });
    try {
      assert.equal((await request(`${gw.web}/ping`)).status, 200);
      assert.equal((await request(`${gw.web}/health`)).status, 200);
      assert.equal((await request(`${gw.web}/other`)).status, 404);
      await gw.stop();
      const got = readLines(file).map((l) => JSON.parse(l) as { RequestPath: string; RouterName?: string });
      const expected = addInternals ? ['/ping -', '/health health@inline', '/other -'] : ['/other -'];
      assert.deepEqual(got.map((f) => `${f.RequestPath} ${f.RouterName ?? '-'}`), expected, `addInternals=${addInternals}`);
    } finally {
      await gw.stop();
      tmp.remove();
    }
  }
});

test('bodies: a streamed response and an uploaded body are counted to the byte', async () => {
  const chunk = Buffer.alloc(10_000, 'x');
  const backend = await startServer((req, res) => {
    let received = 0;
    req.on('data', (c: Buffer) => (received += c.length));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-received': String(received) });
      let left = 5;
      const pump = () => {
        if (left-- === 0) return res.end();
        res.write(chunk);
        setImmediate(pump);
      };
      pump();
    });
  });
  const tmp = tempDir('wharf-accesslog-');
  const file = join(tmp.path, 'access.log');
  const gw = await gateway({ args: ['--accessLog.format=json', `--accessLog.filePath=${file}`], dynamic: route('stream', backend.url) });
  try {
    const res = await request(`${gw.web}/upload`, { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' }, body: Buffer.alloc(7_777, 'u') });
    assert.equal(res.headers['x-received'], '7777');
    assert.equal(res.body.length, 50_000);
    await gw.stop();
    const [f] = readLines(file).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(f!.RequestContentSize, 7777);
    assert.equal(f!.OriginContentSize, 50_000);
    assert.equal(f!.DownstreamContentSize, 50_000);
  } finally {
    await gw.stop();
    await backend.close();
    tmp.remove();
  }
});

test('a client that leaves before the answer is logged as 499 once the exchange ends', async () => {
  let arrived!: () => void;
  const reached = new Promise<void>((resolve) => (arrived = resolve));
  const backend = await startServer(() => arrived());
  const tmp = tempDir('wharf-accesslog-');
  const file = join(tmp.path, 'access.log');
  const gw = await gateway({ args: ['--accessLog.format=json', `--accessLog.filePath=${file}`], dynamic: route('slow', backend.url) });
  try {
    const req = http.request(`${gw.web}/slow`, { agent: false });
    req.on('error', () => undefined);
    req.end();
    await reached;
    req.destroy();
    await gw.stop();
    const [f] = readLines(file).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(f!.DownstreamStatus, 499);
    assert.equal(f!.RouterName, 'slow@inline');
  } finally {
    await gw.stop();
    await backend.close();
    tmp.remove();
  }
});

for (const failure of ['ENOTDIR: a path under a regular file', 'ENOSPC: /dev/full'] as const) {
  test(`a failing destination (${failure}) is reported once and serving continues`, async () => {
    const backend = await helloBackend();
    const tmp = tempDir('wharf-accesslog-');
    const blocker = join(tmp.path, 'not-a-directory');
    writeFileSync(blocker, '');
    const file = failure.startsWith('ENOTDIR') ? join(blocker, 'access.log') : '/dev/full';
    const memory = memoryLog();
    const gw = await gateway({ args: [`--accessLog.filePath=${file}`], dynamic: route('app', backend.url), log: memory.log });
    const isReport = (r: { msg: string }) => r.msg.startsWith('access log: cannot write to');
    try {
      assert.equal((await request(`${gw.web}/first`)).status, 200);
      await memory.waitFor(isReport);
      for (let i = 0; i < 5; i++) assert.equal((await request(`${gw.web}/after-${i}`)).status, 200);
      await gw.stop();
      const reports = memory.records.filter(isReport);
      assert.equal(reports.length, 1);
      assert.match(reports[0]!.msg, new RegExp(`cannot write to ${file.replace(/[/.]/g, '\\$&')}: .*(ENOTDIR|EEXIST|ENOSPC|no space|not a directory)`, 'i'));
      assert.equal(reports[0]!.level, 50, 'reported as an error');
    } finally {
      await gw.stop();
      await backend.close();
      tmp.remove();
    }
  });
}

test('SIGUSR1 reopens a destination that failed, once the path is usable again', async () => {
  const backend = await helloBackend();
  const tmp = tempDir('wharf-accesslog-');
  const blocker = join(tmp.path, 'logs');
  writeFileSync(blocker, '');
  const file = join(blocker, 'access.log');
  const memory = memoryLog();
  const gw = await gateway({ args: [`--accessLog.filePath=${file}`], dynamic: route('app', backend.url), log: memory.log });
  try {
    await request(`${gw.web}/lost`);
    await memory.waitFor((r) => r.msg.startsWith('access log: cannot write to'));
    rmSync(blocker);
    process.kill(process.pid, 'SIGUSR1');
    await memory.waitFor((r) => r.msg.startsWith('access log: reopening'));
    await request(`${gw.web}/kept`);
    await gw.stop();
    const lines = readLines(file);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /"GET \/kept HTTP\/1\.1" 200 6 /);
  } finally {
    await gw.stop();
    await backend.close();
    tmp.remove();
  }
});
