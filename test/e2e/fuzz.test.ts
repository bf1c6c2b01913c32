// Property-based fuzzing (fast-check): any input to the rule parser, the label decoder, the static flag
// parser or the HTTP entrypoint yields a result or a clear error — never a crash, hang or escaped exception.
// FUZZ_RUNS raises the number of cases (see README: `FUZZ_RUNS=20000 node test/run.js fuzz`).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import fc from 'fast-check';
import { WharfError } from '@wharf/core';
import { compileRule, decode, flatToTree, PluginRegistry } from '@wharf/core/config';
import { request, startBackend } from '@wharf/test-helpers';
import { startTestGateway, httpConfig } from './gateway.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

/** Pieces rules are made of, so random rules reach deep into the parser instead of failing at column 1. */
const ruleToken = fc.oneof(
  fc.constantFrom('Host', 'HostRegexp', 'Path', 'PathPrefix', 'PathRegexp', 'Method', 'Header', 'HeaderRegexp', 'Query', 'QueryRegexp', 'ClientIP', 'pathprefix', 'Nope'),
  fc.constantFrom('(', ')', ',', '&&', '||', '!', ' ', '`', '"', '\\'),
  fc.string({ maxLength: 8 }).map((s) => `\`${s}\``),
  fc.constantFrom('`(a+)+$`', '`^.*$`', '`[`', '`10.0.0.0/8`', '`::1`', '`/api`', '`GET`'),
);
const ruleText = fc.oneof(fc.array(ruleToken, { maxLength: 16 }).map((t) => t.join('')), fc.string({ maxLength: 40 }));

test('rule parser: every input compiles or throws a WharfError with a column', () => {
  fc.assert(
    fc.property(ruleText, (rule) => {
      try {
        const compiled = compileRule(rule);
        assert.equal(typeof compiled.match, 'function');
      } catch (err) {
        assert.ok(err instanceof WharfError, `non-Wharf error for ${JSON.stringify(rule)}: ${String(err)}`);
        assert.match(err.message, /column \d+|rule/);
      }
    }),
    { numRuns: RUNS * 10 },
  );
});

test('label decoder: any flat label map decodes to a value and issues, never throws', async () => {
  const { default: stripPrefix } = await import('@wharf/plugin-stripprefix');
  const { default: headers } = await import('@wharf/plugin-headers');
  const registry = new PluginRegistry().register(stripPrefix).register(headers);
  const { dynamicSchema } = await import('@wharf/core/config');
  const schema = dynamicSchema(registry);
  const segment = fc.oneof(
    fc.constantFrom('http', 'routers', 'services', 'middlewares', 'rule', 'service', 'priority', 'loadbalancer', 'servers', 'url', 'stripprefix', 'prefixes', 'headers', 'customrequestheaders', 'tls', 'entrypoints', '[0]', '[10]', 'r', 'S'),
    fc.string({ maxLength: 6 }),
  );
  const key = fc.array(segment, { minLength: 1, maxLength: 6 }).map((s) => s.join('.'));
  const value = fc.oneof(fc.constantFrom('true', 'false', '{}', '1', '-1', 'Path(`/`)', 'http://127.0.0.1:1', '/api,/b', ''), fc.string({ maxLength: 12 }));
  fc.assert(
    fc.property(fc.array(fc.tuple(key, value), { maxLength: 12 }), (labels) => {
      const result = decode(schema, flatToTree(labels), { describe: (w) => `wharf.${w.join('.')}` });
      assert.ok(Array.isArray(result.issues));
      for (const issue of [...result.issues, ...[...result.disabled.values()].flat()]) {
        assert.equal(typeof issue.message, 'string');
        assert.ok(issue.source.startsWith('wharf.'), issue.source);
      }
    }),
    { numRuns: RUNS * 5 },
  );
});

test('static flag parser: any argv is accepted or rejected with a message naming the problem', async () => {
  const { readStaticSources, decodeStatic } = await import('@wharf/core/config');
  const flag = fc.oneof(
    fc.tuple(fc.constantFrom('--entrypoints.web.address', '--ping', '--log.level', '--providers.providersThrottleDuration', '--workers', '--entryPoints.a.transport.respondingTimeouts.readTimeout', '--x.y'), fc.oneof(fc.constant(''), fc.string({ maxLength: 8 }).map((v) => `=${v}`))).map(([k, v]) => k + v),
    fc.string({ maxLength: 12 }),
  );
  fc.assert(
    fc.property(fc.array(flag, { maxLength: 6 }), (argv) => {
      try {
        decodeStatic(readStaticSources(argv, {}));
      } catch (err) {
        assert.ok(err instanceof WharfError, `non-Wharf error for ${JSON.stringify(argv)}: ${String(err)}`);
        assert.ok(err.message.length > 0);
      }
    }),
    { numRuns: RUNS * 5 },
  );
});

test('HTTP entrypoint: random header bytes never crash the gateway; it keeps serving', async () => {
  const backend = await startBackend('fuzz');
  const gw = await startTestGateway(httpConfig({ all: { rule: 'PathPrefix(`/`)', service: 'b' } }, { b: [backend.url] }));
  after(async () => {
    await gw.stop();
    await backend.close();
  });
  const headerName = fc.oneof(fc.constantFrom('Host', 'Content-Length', 'Transfer-Encoding', 'Connection', 'Upgrade', 'Expect', 'TE', 'X-Forwarded-For'), fc.string({ maxLength: 10 }));
  const headerValue = fc.oneof(fc.constantFrom('chunked', '0', '-1', '10', 'close', 'keep-alive, Upgrade', 'websocket', '100-continue', 'a\x00b'), fc.string({ maxLength: 20 }));
  const target = fc.oneof(fc.constantFrom('/', '*', 'http://a/b', '//x', '/%zz', '/a?b=%'), fc.string({ maxLength: 20 }));
  await fc.assert(
    fc.asyncProperty(fc.constantFrom('GET', 'POST', 'HEAD', 'OPTIONS', 'CONNECT', 'G ET'), target, fc.array(fc.tuple(headerName, headerValue), { maxLength: 6 }), fc.string({ maxLength: 30 }), async (method, path, headers, body) => {
        const raw = `${method} ${path} HTTP/1.1\r\nHost: a\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n${body}`;
        await sendAndForget(gw.port, raw);
      }),
    { numRuns: RUNS },
  );
  const after_ = await request(gw.port, { path: '/still-alive', headers: { host: 'a' } });
  assert.equal(after_.status, 200);
});

/** Writes bytes, reads for a moment, closes: the property is only that nothing blows up. */
function sendAndForget(port: number, raw: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(raw, 'latin1'));
    const done = () => {
      socket.destroy();
      resolve();
    };
    socket.setTimeout(200, done);
    socket.on('data', () => undefined);
    socket.on('close', done);
    socket.on('error', done);
  });
}
