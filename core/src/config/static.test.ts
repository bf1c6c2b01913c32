import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeStatic, parseFlags, readStaticSources } from './static.js';

function load(argv: string[], env: NodeJS.ProcessEnv = {}) {
  return decodeStatic(readStaticSources(argv, env));
}

test('flags: = form, space form, bare flags', () => {
  assert.deepEqual(parseFlags(['--a.b=1', '--c', 'x', '--d', '--e={}']), [['a.b', '1'], ['c', 'x'], ['d', 'true'], ['e', '{}']]);
  assert.throws(() => parseFlags(['stray']), /unexpected argument 'stray'/);
});

test('keys are case-insensitive and durations accept Go units and plain seconds', () => {
  const config = load([
    '--entryPoints.web.address=:81',
    '--entrypoints.WEB.transport.respondingtimeouts.readtimeout=5s',
    '--entrypoints.web.transport.respondingTimeouts.idleTimeout=7',
    '--providers.providersThrottleDuration=500ms',
    '--log.level=debug',
  ]);
  assert.equal(config.entryPoints.web!.address, ':81');
  assert.equal(config.entryPoints.web!.transport.respondingTimeouts.readTimeout, 5000);
  assert.equal(config.entryPoints.web!.transport.respondingTimeouts.idleTimeout, 7000);
  assert.equal(config.providers.providersThrottleDuration, 500);
  assert.equal(config.log.level, 'DEBUG');
});

test('defaults: http on :80 when no entrypoint, Traefik timeouts', () => {
  const config = load([]);
  assert.equal(config.entryPoints.http!.address, ':80');
  assert.equal(config.entryPoints.http!.transport.respondingTimeouts.readTimeout, 60_000);
  assert.equal(config.entryPoints.http!.transport.lifeCycle.graceTimeOut, 10_000);
  assert.equal(config.entryPoints.http!.http.maxHeaderBytes, 32 * 1024);
  assert.equal(config.workers, 1);
});

test('precedence: file < environment < flags', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-static-'));
  const file = join(dir, 'wharf.yml');
  writeFileSync(file, 'entryPoints:\n  web:\n    address: ":1001"\n  admin:\n    address: ":1002"\nlog:\n  level: WARN\n');
  const env = { WHARF_ENTRYPOINTS_ADMIN_ADDRESS: ':2002', WHARF_LOG_LEVEL: 'ERROR' };
  const config = load([`--configFile=${file}`, '--log.level=info'], env);
  assert.equal(config.entryPoints.web!.address, ':1001');
  assert.equal(config.entryPoints.admin!.address, ':2002');
  assert.equal(config.log.level, 'INFO');
});

test('errors name the flag, the environment variable or the file key', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-static-'));
  const file = join(dir, 'wharf.yml');
  writeFileSync(file, 'entryPoints:\n  web:\n    adress: ":1"\n');
  const cases = [
    { desc: 'unknown flag with suggestion', argv: ['--entrypoints.web.adress=:80'], expected: /--entrypoints\.web\.adress: unknown field 'adress' \(did you mean 'address'\?\)/ },
    { desc: 'bad duration', argv: ['--entrypoints.web.address=:80', '--entrypoints.web.transport.lifeCycle.graceTimeOut=soon'], expected: /graceTimeOut: expected a duration .* \(got "soon"\)/ },
    { desc: 'bad integer', argv: ['--entrypoints.web.address=:80', '--entrypoints.web.http.maxHeaderBytes=big'], expected: /maxHeaderBytes: expected a whole number \(got "big"\)/ },
    { desc: 'out of range', argv: ['--workers=0'], expected: /--workers: expected a whole number or "auto"|workers/ },
    { desc: 'file key', argv: [`--configFile=${file}`], expected: new RegExp(`${file.replace(/[.]/g, '\\.')}: entryPoints\\.web\\.adress: unknown field`) },
    { desc: 'environment variable', argv: [], env: { WHARF_LOG_FORMAT: 'xml' }, expected: /WHARF_LOG_FORMAT: expected "common" or "json" \(got "xml"\)/ },
  ];
  for (const c of cases) {
    await t.test(c.desc, () => assert.throws(() => load(c.argv, c.env ?? {}), c.expected));
  }
});

test('a YAML syntax error names file, line and column', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-static-'));
  const file = join(dir, 'bad.yml');
  writeFileSync(file, 'entryPoints:\n  web:\n    address: [":1"\n');
  assert.throws(() => load([`--configFile=${file}`]), /YAML syntax error at .*bad\.yml:\d+:\d+/);
});

test('serversTransport, keepAliveMaxTime, forwardedHeaders.connection and reusePort as Traefik 3 stacks write them', () => {
  const config = load([
    '--entrypoints.web.address=:80',
    '--entrypoints.web.reusePort=true',
    '--entrypoints.web.transport.keepAliveMaxTime=5m',
    '--entrypoints.web.forwardedHeaders.connection=X-Foo,X-Bar',
    '--serversTransport.insecureSkipVerify=true',
    '--serversTransport.rootCAs=/certs/a.pem,/certs/b.pem',
    '--serversTransport.maxIdleConnsPerHost=7',
    '--serversTransport.forwardingTimeouts.dialTimeout=5s',
  ]);
  const web = config.entryPoints.web!;
  assert.equal(web.reusePort, true);
  assert.equal(web.transport.keepAliveMaxTime, 300_000);
  assert.deepEqual(web.forwardedHeaders.connection, ['X-Foo', 'X-Bar']);
  assert.deepEqual(config.serversTransport, {
    insecureSkipVerify: true,
    rootCAs: ['/certs/a.pem', '/certs/b.pem'],
    maxIdleConnsPerHost: 7,
    forwardingTimeouts: { dialTimeout: 5000, responseHeaderTimeout: 0, idleConnTimeout: 90_000, readIdleTimeout: 0, pingTimeout: 15_000 },
  });
  assert.throws(() => load(['--serversTransport.maxIdleConnsPerHost=-1']), /--serversTransport\.maxIdleConnsPerHost.*>= 0/);
  assert.throws(() => load(['--serversTransport.spiffe.ids=spiffe://a/b']), /serversTransport\.spiffe: SPIFFE is not supported/);
});

test("a plugin's dotted static key (log.otlp) places its section inside the core's, and setup gets that value", async () => {
  const { definePlugin } = await import('../plugin/contract.js');
  const { PluginRegistry, pluginSection } = await import('../plugin/registry.js');
  const { Type } = await import('./schema.js');
  const nested = definePlugin({
    name: 'nested',
    schema: Type.Object({}),
    config: { static: { key: 'log.otlp', schema: Type.Object({ endpoint: Type.String({ default: 'localhost:4317' }) }, { additionalProperties: false }) } },
    setup: () => undefined,
  });
  const registry = new PluginRegistry();
  registry.register(nested);
  const config = decodeStatic(readStaticSources(['--log.level=warn', '--log.OTLP.endpoint=collector:4317'], {}), registry);
  assert.equal(config.log.level, 'WARN', "the core's own log fields are kept");
  assert.deepEqual(pluginSection(nested, config), { enabled: true, value: { endpoint: 'collector:4317' } });
  assert.deepEqual(pluginSection(nested, decodeStatic(readStaticSources(['--log.level=warn'], {}), registry)), { enabled: false, value: undefined });
  assert.throws(() => decodeStatic(readStaticSources(['--log.otlp.nope=1'], {}), registry), /log\.otlp\.nope/);
});
