// Table tests for labels → snapshot: Traefik's defaults, servers from addresses, replica merging, and every
// error path disabling only what it touches, with the container, label, value and expectation in the message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Type } from '@sinclair/typebox';
import { definePlugin, Duration, MapOf, StringList } from '@wharf/core';
import { PluginRegistry } from '@wharf/core/config';
import { buildConfiguration, type BuildOptions } from './configuration.js';
import { compileTemplate } from './template.js';
import { DEFAULT_RULE } from './options.js';
import { compileConstraints } from './constraints.js';
import type { Workload } from './workload.js';

// A plugin this provider has never heard of: its nested options, lists and durations must work as labels.
const novel = definePlugin({
  name: 'novelThing',
  schema: Type.Object(
    {
      paths: StringList({ minItems: 1 }),
      window: Duration({ default: '1s' }),
      limits: Type.Optional(Type.Object({ burst: Type.Integer({ minimum: 1 }), depth: Type.Optional(Type.Integer()) }, { additionalProperties: false })),
    },
    { additionalProperties: false },
  ),
  create: () => async (_ctx, next) => next(),
});
// A plugin adding a loadBalancer field, as the health-check plugin adds passiveHealthCheck.
const passive = definePlugin({
  name: 'passiveish',
  schema: Type.Object({}),
  config: { loadBalancer: { passiveHealthCheck: Type.Object({ maxFailedAttempts: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }) } },
  create: () => async (_ctx, next) => next(),
});
/** A connection-level (TCP) middleware plugin this provider has never heard of either. */
const novelConn = definePlugin({
  name: 'novelConn',
  schema: Type.Object({}),
  tcp: { schema: Type.Object({ sourceRange: StringList() }, { additionalProperties: false }), create: () => (connection, next) => next(connection) },
});
const registry = new PluginRegistry().register(novel).register(novelConn);

function options(overrides: Partial<BuildOptions> = {}): BuildOptions {
  return {
    provider: 'docker',
    labelPrefix: 'wharf',
    exposedByDefault: true,
    useBindPortIP: false,
    allowEmptyServices: false,
    defaultRule: compileTemplate(DEFAULT_RULE, 'defaultRule'),
    registry,
    ...overrides,
  };
}

function container(name: string, labels: Record<string, string>, more: Partial<Workload> = {}): Workload {
  return {
    kind: 'container',
    id: `id-${name}`,
    name,
    title: `container "${name}"`,
    labels,
    containerName: name,
    ready: true,
    ports: [80],
    instances: [{ id: `id-${name}`, networks: [{ network: 'golf', ip: '10.0.0.2' }], bindings: [] }],
    virtualIPs: [],
    ...more,
  };
}

test('docker configuration: defaults as Traefik', () => {
  const { config } = buildConfiguration([container('web', {})], options());
  assert.deepEqual(config.config, {
    http: {
      routers: { web: { rule: 'Host(`web`)', service: 'web' } },
      services: { web: { loadBalancer: { passHostHeader: true, servers: [{ url: 'http://10.0.0.2:80' }] } } },
    },
  });
  assert.deepEqual(config.problems, []);
});

test('docker configuration: labels for routers, services and a plugin it does not know', () => {
  const labels = {
    'wharf.http.routers.api.rule': 'Host(`api.example`)',
    'wharf.http.routers.api.entrypoints': 'web,websecure',
    'wharf.http.routers.api.middlewares': 'n',
    'wharf.http.routers.api.priority': '42',
    'wharf.http.services.api-svc.loadbalancer.server.port': '8080',
    'wharf.http.services.api-svc.loadbalancer.server.scheme': 'https',
    'wharf.http.services.api-svc.loadbalancer.passhostheader': 'false',
    'wharf.http.middlewares.n.novelthing.paths': '/a, /b',
    'wharf.http.middlewares.n.novelthing.window': '1m30s',
    'Wharf.HTTP.Middlewares.n.NovelThing.Limits.Burst': '5',
  };
  const { config } = buildConfiguration([container('web', labels, { ports: [80, 8080] })], options());
  assert.deepEqual(config.problems, []);
  assert.deepEqual(config.config.http, {
    routers: { api: { rule: 'Host(`api.example`)', entryPoints: ['web', 'websecure'], middlewares: ['n'], priority: 42, service: 'api-svc' } },
    services: { 'api-svc': { loadBalancer: { passHostHeader: false, servers: [{ url: 'https://10.0.0.2:8080' }] } } },
    middlewares: { n: { novelThing: { paths: ['/a', '/b'], window: 90_000, limits: { burst: 5 } } } },
  });
});

test('docker configuration: scheme h2c gives h2c:// server URLs (gRPC over HTTP/2 without TLS)', () => {
  const labels = { 'wharf.http.services.grpc.loadbalancer.server.port': '50051', 'wharf.http.services.grpc.loadbalancer.server.scheme': 'h2c' };
  const { config } = buildConfiguration([container('web', labels, { ports: [50051] })], options());
  assert.deepEqual(config.problems, []);
  assert.deepEqual((config.config.http as { services: Record<string, unknown> }).services.grpc, { loadBalancer: { passHostHeader: true, servers: [{ url: 'h2c://10.0.0.2:50051' }] } });
});

test('docker configuration: a router opts out of the access log and metrics by label, as in Traefik', () => {
  const labels = {
    'wharf.http.routers.quiet.rule': 'Path(`/health`)',
    'wharf.http.routers.quiet.observability.accessLogs': 'false',
    'wharf.http.routers.quiet.observability.metrics': 'false',
  };
  const { config } = buildConfiguration([container('web', labels)], options());
  assert.deepEqual(config.problems, []);
  const router = (config.config.http as { routers: Record<string, { observability?: unknown }> }).routers.quiet;
  assert.deepEqual(router?.observability, { accessLogs: false, metrics: false });
  const bad = buildConfiguration([container('web', { 'wharf.http.routers.quiet.observability.accessLogs': 'nope' })], options());
  assert.match(JSON.stringify(bad.config.problems), /observability\.accessLogs/);
});

test('docker configuration: replicas merge their servers; host network and swarm tasks', () => {
  const labels = { 'wharf.http.routers.r.rule': 'Host(`x`)', 'wharf.http.services.s.loadbalancer.server.port': '8083' };
  const a = container('app-1', labels, { instances: [{ id: 'a', networks: [{ network: 'golf', ip: '10.0.0.3' }], bindings: [] }] });
  const b = container('app-2', labels, { instances: [{ id: 'b', hostAddress: '127.0.0.1', networks: [], bindings: [] }] });
  const bank = container('bank', { 'wharf.http.services.bank.loadbalancer.server.port': '8083' }, {
    kind: 'service',
    title: 'service "bank"',
    instances: ['127.0.0.4', '127.0.0.2', '127.0.0.3'].map((ip, i) => ({ id: `t${i}`, networks: [{ network: 'golf', ip }], bindings: [] })),
  });
  const { config } = buildConfiguration([a, b, bank], options());
  const services = config.config.http!.services!;
  assert.deepEqual(services.s!.loadBalancer!.servers, [{ url: 'http://10.0.0.3:8083' }, { url: 'http://127.0.0.1:8083' }]);
  assert.deepEqual(services.bank!.loadBalancer!.servers.map((s) => s.url), ['http://127.0.0.2:8083', 'http://127.0.0.3:8083', 'http://127.0.0.4:8083']);
  assert.deepEqual(config.problems, []);
});

test('docker configuration: network selection, lbswarm, useBindPortIP, exposedByDefault, constraints, allowEmptyServices', () => {
  const twoNets = { instances: [{ id: 'x', networks: [{ network: 'back', ip: '10.1.0.2' }, { network: 'golf', ip: '10.2.0.2' }], bindings: [{ port: 80, hostIp: '127.0.0.1', hostPort: 18080 }] }] };
  const url = (w: Workload, o: Partial<BuildOptions> = {}) => {
    const r = buildConfiguration([w], options(o));
    return { urls: Object.values(r.config.config.http?.services ?? {}).flatMap((s) => s.loadBalancer!.servers.map((x) => x.url)), warnings: r.warnings, problems: r.config.problems, skipped: r.skipped };
  };
  assert.deepEqual(url(container('a', {}, twoNets)).urls, ['http://10.1.0.2:80'], 'first network by name');
  assert.deepEqual(url(container('a', {}, twoNets), { network: 'golf' }).urls, ['http://10.2.0.2:80'], 'provider network');
  assert.deepEqual(url(container('a', { 'wharf.docker.network': 'golf' }, twoNets), { network: 'back' }).urls, ['http://10.2.0.2:80'], 'label wins');
  const missing = url(container('a', { 'wharf.docker.network': 'nope' }, twoNets));
  assert.deepEqual(missing.urls, ['http://10.1.0.2:80']);
  assert.match(missing.warnings[0]!, /container "a" is not on network "nope"; using its address on "back"/);
  assert.deepEqual(url(container('a', {}, twoNets), { useBindPortIP: true }).urls, ['http://127.0.0.1:18080']);
  const vip = { kind: 'service' as const, virtualIPs: [{ network: 'golf', ip: '10.2.0.100' }] };
  assert.deepEqual(url(container('s', { 'wharf.docker.lbswarm': 'true' }, { ...twoNets, ...vip })).urls, ['http://10.2.0.100:80']);
  assert.deepEqual(url(container('s', { 'wharf.docker.lbswarm': 'true' }, { ...vip, ready: false, instances: [] })).urls, ['http://10.2.0.100:80'], 'VIP even without tasks');
  assert.deepEqual(url(container('a', {}), { exposedByDefault: false }).skipped, ['container "a": it is not enabled (set wharf.enable=true)']);
  assert.deepEqual(url(container('a', { 'wharf.enable': 'true' }), { exposedByDefault: false }).urls, ['http://10.0.0.2:80']);
  assert.deepEqual(url(container('a', { 'wharf.enable': 'false' })).urls, []);
  const constraints = compileConstraints('Label(`tier`, `front`)', 'c');
  assert.deepEqual(url(container('a', { tier: 'back' }), { constraints }).skipped, ['container "a": it does not match the constraints']);
  const unhealthy = container('a', {}, { ready: false, notReady: 'its health check says unhealthy' });
  assert.deepEqual(url(unhealthy).skipped, ['container "a": not served: its health check says unhealthy']);
  const empty = buildConfiguration([unhealthy], options({ allowEmptyServices: true }));
  assert.deepEqual(empty.config.config.http?.services?.a?.loadBalancer?.servers, [], 'kept, answering 503');
  assert.deepEqual(url(container('t', { 'wharf.tcp.routers.x.rule': 'HostSNI(`*`)' }, { ready: false })).problems, [], 'not-ready workloads report nothing');
});

test('docker configuration: every error names who, the label, its value and what was expected; only touched elements go', () => {
  const cases: { desc: string; workloads: Workload[]; kept: string[]; problems: Record<string, RegExp> }[] = [
    {
      desc: 'bad value disables its router only',
      workloads: [container('web', { 'wharf.http.routers.a.rule': 'Host(`a`)', 'wharf.http.routers.a.priority': 'high', 'wharf.http.routers.b.rule': 'Host(`b`)', 'wharf.http.routers.b.service': 'web' })],
      kept: ['routers/b', 'services/web'],
      problems: { 'routers/a': /^container "web": label wharf\.http\.routers\.a\.priority: expected a whole number \(got "high"\)$/ },
    },
    {
      desc: 'unknown field with a suggestion and the value',
      workloads: [container('web', { 'wharf.http.routers.web.rulez': 'Host(`a`)' })],
      kept: ['services/web'],
      problems: { 'routers/web': /container "web": label wharf\.http\.routers\.web\.rulez="Host\(`a`\)": unknown field 'rulez' \(did you mean 'rule'\?\)/ },
    },
    {
      desc: 'out of range port disables the service; its router follows at build time',
      workloads: [container('web', { 'wharf.http.services.web.loadbalancer.server.port': '99999' })],
      kept: ['routers/web'],
      problems: { 'services/web': /label wharf\.http\.services\.web\.loadbalancer\.server\.port="99999": must be <= 65535/ },
    },
    {
      desc: 'scheme outside http/https/h2c',
      workloads: [container('web', { 'wharf.http.services.web.loadbalancer.server.scheme': 'ftp' })],
      kept: ['routers/web'],
      problems: { 'services/web': /label wharf\.http\.services\.web\.loadbalancer\.server\.scheme: expected one of "http", "https", "h2c" \(got "ftp"\)/ },
    },
    {
      desc: 'middleware option of a plugin: one bad list item',
      workloads: [container('web', { 'wharf.http.middlewares.m.novelthing.limits.burst': '0', 'wharf.http.middlewares.m.novelthing.paths': '/a' })],
      kept: ['routers/web', 'services/web'],
      problems: { 'middlewares/m': /label wharf\.http\.middlewares\.m\.novelthing\.limits\.burst="0": must be >= 1/ },
    },
    {
      desc: 'unknown middleware type',
      workloads: [container('web', { 'wharf.http.middlewares.m.nosuch.x': '1' })],
      kept: ['routers/web', 'services/web'],
      problems: { 'middlewares/m': /label wharf\.http\.middlewares\.m\.nosuch: unknown field 'nosuch' \(known: novelThing, plugin\)/ },
    },
    {
      desc: 'several ports and no server.port names the ports',
      workloads: [container('web', {}, { ports: [80, 443] })],
      kept: ['routers/web'],
      problems: { 'services/web': /^container "web" exposes several ports \(80, 443\) and no server\.port label says which one to use; set wharf\.http\.services\.web\.loadbalancer\.server\.port$/ },
    },
    {
      desc: 'no port at all',
      workloads: [container('web', {}, { ports: [] })],
      kept: ['routers/web'],
      problems: { 'services/web': /container "web" exposes no port; set wharf\.http\.services\.web\.loadbalancer\.server\.port/ },
    },
    {
      desc: 'router without service among two services',
      workloads: [container('web', { 'wharf.http.routers.r.rule': 'Host(`r`)', 'wharf.http.services.a.loadbalancer.server.port': '1', 'wharf.http.services.b.loadbalancer.server.port': '2' })],
      kept: ['services/a', 'services/b'],
      problems: { 'routers/r': /router r names no service and container "web" defines 2 \(a, b\); set wharf\.http\.routers\.r\.service/ },
    },
    {
      desc: 'a label outside every element disables that container only',
      workloads: [container('web', { 'wharf.enable': 'yes' }), container('ok', {})],
      kept: ['routers/ok', 'services/ok'],
      problems: { 'routers/web': /container "web": label wharf\.enable: expected true or false \(got "yes"\)/, 'services/web': /wharf\.enable/ },
    },
    {
      desc: 'two containers define one router differently',
      workloads: [container('a', { 'wharf.http.routers.r.rule': 'Host(`a`)', 'wharf.http.routers.r.service': 'a' }), container('b', { 'wharf.http.routers.r.rule': 'Host(`b`)', 'wharf.http.routers.r.service': 'b' })],
      kept: ['services/a', 'services/b'],
      problems: { 'routers/r': /router r is defined differently by container "a" and container "b"/ },
    },
    {
      desc: 'server.url with server.port',
      workloads: [container('web', { 'wharf.http.services.web.loadbalancer.server.url': 'http://10.9.9.9:1', 'wharf.http.services.web.loadbalancer.server.port': '1' })],
      kept: ['routers/web'],
      problems: { 'services/web': /server\.url cannot be combined with server\.port or server\.scheme/ },
    },
    {
      desc: 'no address in any network',
      workloads: [container('web', {}, { instances: [{ id: 'x', networks: [], bindings: [] }] })],
      kept: ['routers/web'],
      problems: { 'services/web': /container "web" has no IP address/ },
    },
    {
      desc: 'serversTransports cannot be defined in labels (as in Traefik): an error naming the labels; the rest keeps routing',
      workloads: [
        container('web', {
          'wharf.http.serversTransports.internal.serverName': 'internal.test',
          'wharf.http.serverstransports.internal.rootCAs': '/certs/ca.pem',
          'wharf.http.services.web.loadbalancer.serversTransport': 'internal',
        }),
        container('api', { 'wharf.http.serversTransports.internal.insecureSkipVerify': 'true' }),
      ],
      kept: ['routers/api', 'routers/web', 'services/api', 'services/web'],
      problems: {
        'serversTransports/internal': new RegExp(
          '^container "api": label wharf\\.http\\.serversTransports\\.internal\\.insecureSkipVerify: serversTransports cannot be defined in labels; ' +
            "define serversTransport 'internal' in a file \\(providers\\.file\\) and set wharf\\.http\\.services\\.<service>\\.loadbalancer\\.serversTransport=internal@file\n" +
            'container "web": labels wharf\\.http\\.serversTransports\\.internal\\.serverName, wharf\\.http\\.serverstransports\\.internal\\.rootCAs: serversTransports cannot',
        ),
      },
    },
    {
      desc: 'lbswarm without a VIP',
      workloads: [container('svc', { 'wharf.docker.lbswarm': 'true' }, { kind: 'service', title: 'service "svc"' })],
      kept: ['routers/svc'],
      problems: { 'services/svc': /service "svc": wharf\.docker\.lbswarm=true but the service has no virtual IP/ },
    },
  ];
  for (const c of cases) {
    const { config } = buildConfiguration(c.workloads, options());
    const http = (config.config.http ?? {}) as Record<string, Record<string, unknown>>;
    const kept = Object.entries(http).flatMap(([kind, elements]) => Object.keys(elements).map((n) => `${kind}/${n}`)).sort();
    assert.deepEqual(kept, [...c.kept].sort(), `${c.desc}: kept`);
    const got = Object.fromEntries(config.problems.map((p) => [`${p.kind}/${p.name}`, p.messages.join('\n')]));
    assert.deepEqual(Object.keys(got).sort(), Object.keys(c.problems).sort(), `${c.desc}: problems ${JSON.stringify(got)}`);
    for (const [key, re] of Object.entries(c.problems)) assert.match(got[key]!, re, `${c.desc}: ${key}`);
  }
});

test('docker configuration: the traefik prefix reads a Traefik stack unchanged', () => {
  const labels = {
    'traefik.enable': 'true',
    'traefik.docker.network': 'golf',
    'traefik.http.routers.golf-api.rule': 'Host(`golf.tistory.kr`)',
    'traefik.http.routers.golf-api.entrypoints': 'web',
    'traefik.http.services.golf-api.loadbalancer.server.port': '8083',
    'wharf.http.routers.ignored.rule': 'Host(`x`)',
  };
  const bank = container('bank', labels, { kind: 'service', instances: [{ id: 't', networks: [{ network: 'golf', ip: '10.0.1.7' }], bindings: [] }] });
  const { config } = buildConfiguration([bank], options({ labelPrefix: 'traefik', exposedByDefault: false, network: 'golf' }));
  assert.deepEqual(config.config.http, {
    routers: { 'golf-api': { rule: 'Host(`golf.tistory.kr`)', entryPoints: ['web'], service: 'golf-api' } },
    services: { 'golf-api': { loadBalancer: { passHostHeader: true, servers: [{ url: 'http://10.0.1.7:8083' }] } } },
  });
});

// ---- Traefik 3 label names: docker.* / swarm.* per provider, allowNonRunning ----

function swarmService(name: string, labels: Record<string, string>, more: Partial<Workload> = {}): Workload {
  return container(name, labels, {
    kind: 'service',
    title: `service "${name}"`,
    instances: [{ id: 't1', networks: [{ network: 'back', ip: '10.1.0.5' }, { network: 'front', ip: '10.2.0.5' }], bindings: [] }],
    virtualIPs: [{ network: 'back', ip: '10.1.0.100' }, { network: 'front', ip: '10.2.0.100' }],
    ...more,
  });
}

test('docker configuration: provider labels as Traefik 3 reads them (docker.*, swarm.*, allowNonRunning), both providers', () => {
  const stopped = { ready: false, notReady: 'it is not running' };
  const cases: { desc: string; provider: 'docker' | 'swarm'; workload: Workload; urls?: string[]; skipped?: RegExp; warnings?: RegExp[]; problems?: RegExp }[] = [
    { desc: 'swarm: swarm.network picks the task network', provider: 'swarm', workload: swarmService('s', { 'traefik.swarm.network': 'front' }), urls: ['http://10.2.0.5:80'] },
    { desc: 'swarm: swarm.lbswarm uses the VIP of swarm.network', provider: 'swarm', workload: swarmService('s', { 'traefik.swarm.network': 'front', 'traefik.swarm.lbswarm': 'true' }), urls: ['http://10.2.0.100:80'] },
    { desc: 'swarm mode of providers.docker reads swarm.* too, mixed case', provider: 'docker', workload: swarmService('s', { 'Traefik.Swarm.Network': 'front', 'traefik.swarm.LBSwarm': 'TRUE' }), urls: ['http://10.2.0.100:80'] },
    {
      desc: 'swarm: docker.* still works on providers.swarm, with a deprecation warning',
      provider: 'swarm',
      workload: swarmService('s', { 'traefik.docker.network': 'front' }),
      urls: ['http://10.2.0.5:80'],
      warnings: [/^service "s": label traefik\.docker\.network: traefik\.docker\.\* labels on swarm services are deprecated \(Traefik 3\); use traefik\.swarm\.\* instead$/],
    },
    { desc: 'swarm mode of providers.docker: docker.* are its own names, no warning', provider: 'docker', workload: swarmService('s', { 'traefik.docker.lbswarm': 'true' }), urls: ['http://10.1.0.100:80'], warnings: [] },
    {
      desc: 'swarm: docker.* and swarm.* together are rejected, as in Traefik',
      provider: 'swarm',
      workload: swarmService('s', { 'traefik.docker.network': 'back', 'traefik.swarm.network': 'front' }),
      urls: [],
      problems: /^service "s": labels traefik\.docker\.network and traefik\.swarm\.network: both traefik\.docker\.\* and traefik\.swarm\.\* are set; keep only traefik\.swarm\.\*$/,
    },
    {
      desc: 'swarm: docker.allownonrunning is ignored with a warning',
      provider: 'swarm',
      workload: swarmService('s', { 'traefik.docker.allownonrunning': 'true' }),
      urls: ['http://10.1.0.5:80'],
      warnings: [/^service "s": label traefik\.docker\.allownonrunning: has no effect on swarm services \(Traefik reads it for containers only\); ignored$/],
    },
    {
      desc: 'swarm: allownonrunning keeps no service without tasks',
      provider: 'docker',
      workload: swarmService('s', { 'traefik.docker.allownonrunning': 'true' }, { ready: false, instances: [], notReady: 'it has no running task' }),
      skipped: /service "s": not served: it has no running task/,
    },
    { desc: 'swarm: a bad swarm.lbswarm value names the label', provider: 'swarm', workload: swarmService('s', { 'traefik.swarm.lbswarm': 'yes' }), urls: [], problems: /service "s": label traefik\.swarm\.lbswarm: expected true or false \(got "yes"\)/ },
    { desc: 'swarm: unknown swarm.* field', provider: 'swarm', workload: swarmService('s', { 'traefik.swarm.allownonrunning': 'true' }), urls: [], problems: /label traefik\.swarm\.allownonrunning="true": unknown field 'allownonrunning'/ },
    {
      desc: 'docker: swarm.* labels on a container are ignored with a warning',
      provider: 'docker',
      workload: container('c', { 'traefik.swarm.network': 'nope' }),
      urls: ['http://10.0.0.2:80'],
      warnings: [/^container "c": label traefik\.swarm\.network: traefik\.swarm\.\* labels are read by the swarm provider only; ignored for containers$/],
    },
    { desc: 'docker: a stopped container is not served', provider: 'docker', workload: container('c', {}, stopped), skipped: /container "c": not served: it is not running/ },
    { desc: 'docker: allownonrunning keeps a stopped container, without servers', provider: 'docker', workload: container('c', { 'traefik.docker.AllowNonRunning': 'true' }, stopped), urls: [] },
    { desc: 'docker: allownonrunning on a running container changes nothing', provider: 'docker', workload: container('c', { 'traefik.docker.allownonrunning': 'true' }), urls: ['http://10.0.0.2:80'] },
    { desc: 'docker: allownonrunning=false', provider: 'docker', workload: container('c', { 'traefik.docker.allownonrunning': 'false' }, stopped), skipped: /not served/ },
  ];
  for (const c of cases) {
    const r = buildConfiguration([c.workload], options({ provider: c.provider, labelPrefix: 'traefik' }));
    const services = r.config.config.http?.services ?? {};
    const problems = r.config.problems.map((p) => `${p.kind}/${p.name}: ${p.messages.join('; ')}`);
    if (c.skipped) {
      assert.equal(r.skipped.length, 1, `${c.desc}: skipped`);
      assert.match(r.skipped[0]!, c.skipped, c.desc);
      continue;
    }
    assert.deepEqual(r.skipped, [], `${c.desc}: not skipped`);
    if (c.urls) assert.deepEqual(Object.values(services).flatMap((s) => s.loadBalancer!.servers.map((x) => x.url)), c.urls, `${c.desc}: urls`);
    if (c.problems) {
      assert.deepEqual(r.config.problems.map((p) => `${p.kind}/${p.name}`), ['routers/s', 'services/s'], `${c.desc}: the workload's elements are disabled`);
      for (const p of r.config.problems) assert.match(p.messages.join('\n'), c.problems, c.desc);
    } else assert.deepEqual(problems, [], `${c.desc}: no problems`);
    if (c.warnings) {
      assert.equal(r.warnings.length, c.warnings.length, `${c.desc}: warnings ${JSON.stringify(r.warnings)}`);
      c.warnings.forEach((re, i) => assert.match(r.warnings[i]!, re, c.desc));
    }
  }
  const kept = buildConfiguration([container('c', { 'traefik.docker.allownonrunning': 'true' }, stopped)], options({ labelPrefix: 'traefik' }));
  assert.deepEqual(kept.config.config.http, {
    routers: { c: { rule: 'Host(`c`)', service: 'c' } },
    services: { c: { loadBalancer: { passHostHeader: true, servers: [] } } },
  }, 'router and service kept, answering 503 as in Traefik');
});

// ---- One kind's labels never take down another's: tcp, udp and tls each on their own ----

test('docker configuration: TCP and UDP labels become their sections with Traefik\'s defaults; TLS labels are reported; HTTP keeps serving', () => {
  const http = { 'traefik.http.routers.web.rule': 'Host(`web`)', 'traefik.http.services.web.loadbalancer.server.port': '80' };
  const web = { routers: { web: { rule: 'Host(`web`)', service: 'web' } }, services: { web: { loadBalancer: { passHostHeader: true, servers: [{ url: 'http://10.0.0.2:80' }] } } } };
  const cases: { desc: string; workloads: Workload[]; http: unknown; tcp?: unknown; udp?: unknown; problems: Record<string, RegExp> }[] = [
    {
      desc: 'HTTP and TCP on one container: the TCP service on its labelled port',
      workloads: [container('web', { ...http, 'traefik.tcp.routers.db.rule': 'HostSNI(`*`)', 'traefik.tcp.services.db.loadbalancer.server.port': '5432' })],
      http: web,
      tcp: { routers: { db: { rule: 'HostSNI(`*`)', service: 'db' } }, services: { db: { loadBalancer: { servers: [{ address: '10.0.0.2:5432' }] } } } },
      problems: {},
    },
    {
      desc: 'mixed-case keys, a TCP router named like the HTTP one, no service: one named after the container on its only port',
      workloads: [container('web', { ...http, 'Traefik.TCP.Routers.web.Rule': 'HostSNI(`web.example`)', 'TRAEFIK.tcp.routers.web.TLS': 'true', 'traefik.tcp.routers.web.tls.passthrough': 'true' })],
      http: web,
      tcp: { routers: { web: { rule: 'HostSNI(`web.example`)', tls: { passthrough: true }, service: 'web' } }, services: { web: { loadBalancer: { servers: [{ address: '10.0.0.2:80' }] } } } },
      problems: {},
    },
    {
      desc: 'server.tls, middlewares and a proxyProtocol version from labels',
      workloads: [container('web', {
        'traefik.tcp.routers.db.rule': 'HostSNI(`*`)',
        'traefik.tcp.routers.db.middlewares': 'only-office',
        'traefik.tcp.middlewares.only-office.novelconn.sourcerange': '10.0.0.0/8',
        'traefik.tcp.services.db.loadbalancer.server.port': '6379',
        'traefik.tcp.services.db.loadbalancer.server.tls': 'true',
        'traefik.tcp.services.db.loadbalancer.proxyprotocol.version': '1',
      })],
      http: undefined,
      tcp: {
        routers: { db: { rule: 'HostSNI(`*`)', middlewares: ['only-office'], service: 'db' } },
        services: { db: { loadBalancer: { proxyProtocol: { version: 1 }, servers: [{ address: '10.0.0.2:6379', tls: true }] } } },
        middlewares: { 'only-office': { novelConn: { sourceRange: ['10.0.0.0/8'] } } },
      },
      problems: {},
    },
    {
      desc: 'TCP and UDP on one container: both decoded, each with its defaults',
      workloads: [container('web', { ...http, 'traefik.udp.routers.dns.entrypoints': 'dns', 'traefik.tcp.routers.db.rule': 'HostSNI(`*`)' })],
      http: web,
      tcp: { routers: { db: { rule: 'HostSNI(`*`)', service: 'web' } }, services: { web: { loadBalancer: { servers: [{ address: '10.0.0.2:80' }] } } } },
      udp: { routers: { dns: { entryPoints: ['dns'], service: 'web' } }, services: { web: { loadBalancer: { servers: [{ address: '10.0.0.2:80' }] } } } },
      problems: {},
    },
    {
      desc: 'a TCP-only container gets no default HTTP router or service (as in Traefik)',
      workloads: [container('web', { 'traefik.tcp.routers.db.rule': 'HostSNI(`*`)' })],
      http: undefined,
      tcp: { routers: { db: { rule: 'HostSNI(`*`)', service: 'web' } }, services: { web: { loadBalancer: { servers: [{ address: '10.0.0.2:80' }] } } } },
      problems: {},
    },
    {
      desc: 'TCP errors disable only their element, naming the label',
      workloads: [container('web', {
        'traefik.tcp.routers.db.rule': 'HostSNI(`*`)',
        'traefik.tcp.routers.db.priorty': '3',
        'traefik.tcp.routers.ok.rule': 'HostSNI(`*`)',
        'traefik.tcp.routers.ok.service': 'cache',
        'traefik.tcp.services.cache.loadbalancer.server.port': '6379',
        'traefik.tcp.services.bad.loadbalancer.server.port': 'sixty',
      })],
      http: undefined,
      tcp: { routers: { ok: { rule: 'HostSNI(`*`)', service: 'cache' } }, services: { cache: { loadBalancer: { servers: [{ address: '10.0.0.2:6379' }] } } } },
      problems: {
        'tcp.routers/db': /label traefik\.tcp\.routers\.db\.priorty="3": unknown field 'priorty'/,
        'tcp.services/bad': /label traefik\.tcp\.services\.bad\.loadbalancer\.server\.port: expected a whole number \(got "sixty"\)/,
      },
    },
    {
      desc: 'a router without service among several services: its error says which label to set',
      workloads: [container('web', { 'traefik.tcp.routers.db.rule': 'HostSNI(`*`)', 'traefik.tcp.services.a.loadbalancer.server.port': '1', 'traefik.tcp.services.b.loadbalancer.server.port': '2' })],
      http: undefined,
      tcp: { services: { a: { loadBalancer: { servers: [{ address: '10.0.0.2:1' }] } }, b: { loadBalancer: { servers: [{ address: '10.0.0.2:2' }] } } } },
      problems: { 'tcp.routers/db': /TCP router db names no service and container "web" defines 2 TCP services \(a, b\); set traefik\.tcp\.routers\.db\.service/ },
    },
    {
      desc: 'several exposed ports and no server.port: the service says which label to set',
      workloads: [container('web', { 'traefik.tcp.routers.db.rule': 'HostSNI(`*`)' }, { ports: [80, 443] })],
      http: undefined,
      tcp: { routers: { db: { rule: 'HostSNI(`*`)', service: 'web' } } },
      problems: { 'tcp.services/web': /exposes several ports \(80, 443\).*set traefik\.tcp\.services\.web\.loadbalancer\.server\.port/ },
    },
    {
      desc: 'a UDP-only container with an invalid value: that UDP service disabled, no HTTP default',
      workloads: [container('web', { 'traefik.udp.services.dns.loadbalancer.server.port': 'not-a-port' })],
      http: undefined,
      problems: { 'udp.services/dns': /^container "web": label traefik\.udp\.services\.dns\.loadbalancer\.server\.port: expected a whole number \(got "not-a-port"\)$/ },
    },
    {
      desc: 'TLS options in labels (Traefik ignores them): reported; the default store without the tls plugin: reported',
      workloads: [container('web', { ...http, 'traefik.tls.options.modern.minVersion': 'VersionTLS13', 'traefik.tls.stores.default.defaultCertificate.certFile': '/c.pem' })],
      http: web,
      problems: {
        'routers/web.tls': new RegExp(
          '^container "web": label traefik\\.tls\\.options\\.modern\\.minVersion: only traefik\\.tls\\.stores\\.default\\.\\* is read from labels \\(Traefik ignores the rest too\\); ' +
            'define TLS options and certificates in a file \\(providers\\.file\\) under tls\\.options and tls\\.certificates; these labels are ignored\n' +
            'container "web": label traefik\\.tls\\.stores\\.default\\.defaultCertificate\\.certFile: no plugin handles tls \\(the tls plugin is not loaded\\); these labels are ignored$',
        ),
      },
    },
    {
      desc: 'a bad HTTP label and a TCP label: each handled on its own, the rest serves',
      workloads: [container('web', { ...http, 'traefik.http.routers.web.priority': 'high', 'traefik.http.routers.ok.rule': 'Host(`ok`)', 'traefik.http.routers.ok.service': 'web', 'traefik.tcp.routers.db.rule': 'HostSNI(`*`)', 'traefik.tcp.routers.db.service': 'web' })],
      http: { routers: { ok: { rule: 'Host(`ok`)', service: 'web' } }, services: web.services },
      tcp: { routers: { db: { rule: 'HostSNI(`*`)', service: 'web' } }, services: { web: { loadBalancer: { servers: [{ address: '10.0.0.2:80' }] } } } },
      problems: { 'routers/web': /label traefik\.http\.routers\.web\.priority: expected a whole number/ },
    },
    {
      desc: 'replicas: one router, their servers together',
      workloads: [
        container('web', { 'traefik.tcp.routers.db.rule': 'HostSNI(`*`)' }),
        container('web', { 'traefik.tcp.routers.db.rule': 'HostSNI(`*`)' }, { id: 'id-web-2', title: 'container "web-2"', instances: [{ id: 'id-web-2', networks: [{ network: 'golf', ip: '10.0.0.3' }], bindings: [] }] }),
      ],
      http: undefined,
      tcp: { routers: { db: { rule: 'HostSNI(`*`)', service: 'web' } }, services: { web: { loadBalancer: { servers: [{ address: '10.0.0.2:80' }, { address: '10.0.0.3:80' }] } } } },
      problems: {},
    },
    { desc: 'not enabled: nothing reported', workloads: [container('web', { 'traefik.enable': 'false', 'traefik.tcp.routers.db.rule': 'x' })], http: undefined, problems: {} },
  ];
  for (const c of cases) {
    const { config } = buildConfiguration(c.workloads, options({ labelPrefix: 'traefik' }));
    assert.deepEqual(config.config.http, c.http, `${c.desc}: http`);
    assert.deepEqual(config.config.tcp, c.tcp, `${c.desc}: tcp`);
    assert.deepEqual(config.config.udp, c.udp, `${c.desc}: udp`);
    const got = Object.fromEntries(config.problems.map((p) => [`${p.kind}/${p.name}`, p.messages.join('\n')]));
    assert.deepEqual(Object.keys(got).sort(), Object.keys(c.problems).sort(), `${c.desc}: problems ${JSON.stringify(got)}`);
    for (const [key, re] of Object.entries(c.problems)) assert.match(got[key]!, re, `${c.desc}: ${key}`);
  }
});

// A plugin owning the dynamic `tls` section, shaped as the tls plugin's stores (the provider only sees the schema).
const tlsOwner = definePlugin({
  name: 'tlsOwner',
  schema: Type.Object({}, { additionalProperties: false }),
  config: {
    dynamic: {
      key: 'tls',
      schema: Type.Object(
        {
          stores: Type.Optional(
            MapOf(
              Type.Object(
                {
                  defaultCertificate: Type.Optional(Type.Object({ certFile: Type.String(), keyFile: Type.String() }, { additionalProperties: false })),
                  defaultGeneratedCert: Type.Optional(Type.Object({ resolver: Type.Optional(Type.String()) }, { additionalProperties: false })),
                },
                { additionalProperties: false },
              ),
            ),
          ),
        },
        { additionalProperties: false },
      ),
    },
  },
  setup: () => {},
});

test('docker configuration: tls.stores.default from labels becomes the provider tls section, as Traefik reads it', () => {
  const withTLS = new PluginRegistry().register(tlsOwner);
  const http = { 'traefik.http.routers.web.rule': 'Host(`web`)' };
  const cert = { 'traefik.tls.stores.default.defaultCertificate.certFile': '/certs/c.pem', 'Traefik.TLS.Stores.Default.DefaultCertificate.KeyFile': '/certs/k.pem' };
  const store = { defaultCertificate: { certFile: '/certs/c.pem', keyFile: '/certs/k.pem' } };
  const cases: { desc: string; workloads: Workload[]; tls: unknown; problems: Record<string, RegExp> }[] = [
    { desc: 'one container, mixed case', workloads: [container('web', { ...http, ...cert })], tls: { stores: { default: store } }, problems: {} },
    { desc: "Traefik's ACME form is accepted", workloads: [container('proxy', { 'traefik.tls.stores.default.defaultgeneratedcert.resolver': 'le' })], tls: { stores: { default: { defaultGeneratedCert: { resolver: 'le' } } } }, problems: {} },
    { desc: 'replicas with the same labels share it', workloads: [container('web', cert), container('web', cert, { id: 'id-2', title: 'container "web-2"' })], tls: { stores: { default: store } }, problems: {} },
    {
      desc: 'two containers disagree: neither is used, the conflict is reported',
      workloads: [container('a', cert), container('b', { 'traefik.tls.stores.default.defaultgeneratedcert.resolver': 'le' })],
      tls: undefined,
      problems: { 'routers/tls.stores.default': /^tls store default is defined differently by container "a" and container "b"; neither is used/ },
    },
    {
      desc: 'a bad store label: reported on <name>.tls; HTTP untouched',
      workloads: [container('web', { ...http, 'traefik.tls.stores.default.defaultCertificate.certFle': '/c.pem' })],
      tls: undefined,
      problems: { 'routers/web.tls': /^container "web": label traefik\.tls\.stores\.default\.defaultCertificate\.certFle="\/c\.pem": unknown field 'certFle'/ },
    },
    {
      desc: 'another store: ignored by Traefik, reported here',
      workloads: [container('web', { 'traefik.tls.stores.other.defaultgeneratedcert.resolver': 'le' })],
      tls: undefined,
      problems: { 'routers/web.tls': /label traefik\.tls\.stores\.other\.defaultgeneratedcert\.resolver: only traefik\.tls\.stores\.default\.\* is read from labels/ },
    },
  ];
  for (const c of cases) {
    const { config } = buildConfiguration(c.workloads, options({ labelPrefix: 'traefik', registry: withTLS }));
    assert.deepEqual(config.config.tls, c.tls, `${c.desc}: tls`);
    assert.ok(config.config.http?.routers && Object.keys(config.config.http.routers).length > 0, `${c.desc}: HTTP routers kept`);
    const got = Object.fromEntries(config.problems.map((p) => [`${p.kind}/${p.name}`, p.messages.join('\n')]));
    assert.deepEqual(Object.keys(got).sort(), Object.keys(c.problems).sort(), `${c.desc}: problems ${JSON.stringify(got)}`);
    for (const [key, re] of Object.entries(c.problems)) assert.match(got[key]!, re, `${c.desc}: ${key}`);
  }
});

// ---- UDP labels: Traefik's defaults (service named after the workload, the only port, the only service) ----

test('docker configuration: traefik.udp.* labels become UDP routers and services', () => {
  const at = (ip: string, more: Partial<Workload> = {}) => ({ instances: [{ id: `id-${ip}`, networks: [{ network: 'golf', ip }], bindings: [] }], ...more });
  const udpOnly = { ports: [], udpPorts: [53] };
  const cases: { desc: string; workloads: Workload[]; udp: unknown; http?: unknown; problems?: Record<string, RegExp>; opts?: Partial<BuildOptions> }[] = [
    {
      desc: 'a router alone: the service is named after the container, on its only UDP port; no HTTP defaults',
      workloads: [container('dns', { 'traefik.udp.routers.dns.entrypoints': 'dns' }, udpOnly)],
      udp: { routers: { dns: { entryPoints: ['dns'], service: 'dns' } }, services: { dns: { loadBalancer: { servers: [{ address: '10.0.0.2:53' }] } } } },
    },
    {
      desc: 'a labelled service and port; the router takes the only service',
      workloads: [container('dns', { 'Traefik.UDP.Routers.r.EntryPoints': 'dns, dns6', 'traefik.udp.services.resolver.loadbalancer.server.port': '5353' }, udpOnly)],
      udp: { routers: { r: { entryPoints: ['dns', 'dns6'], service: 'resolver' } }, services: { resolver: { loadBalancer: { servers: [{ address: '10.0.0.2:5353' }] } } } },
    },
    {
      desc: 'services without a router are kept',
      workloads: [container('dns', { 'traefik.udp.services.a.loadbalancer.server.port': '53' }, udpOnly)],
      udp: { services: { a: { loadBalancer: { servers: [{ address: '10.0.0.2:53' }] } } } },
    },
    {
      desc: 'no UDP port exposed: the only TCP one, as Traefik takes any protocol',
      workloads: [container('dns', { 'traefik.udp.routers.r.service': 'dns' }, { ports: [8053] })],
      udp: { routers: { r: { service: 'dns' } }, services: { dns: { loadBalancer: { servers: [{ address: '10.0.0.2:8053' }] } } } },
    },
    {
      desc: 'replicas: one service with both servers; IPv6 in brackets',
      workloads: [
        container('dns', { 'traefik.udp.routers.dns.service': 'dns' }, { ...udpOnly, ...at('10.0.0.3') }),
        container('dns', { 'traefik.udp.routers.dns.service': 'dns' }, { ...udpOnly, ...at('fd00::2'), id: 'id-dns-2', title: 'container "dns-2"' }),
      ],
      udp: { routers: { dns: { service: 'dns' } }, services: { dns: { loadBalancer: { servers: [{ address: '10.0.0.3:53' }, { address: '[fd00::2]:53' }] } } } },
    },
    {
      desc: 'not running: the service is kept without servers',
      workloads: [container('dns', { 'traefik.udp.routers.dns.service': 'dns' }, { ...udpOnly, ready: false })],
      udp: { routers: { dns: { service: 'dns' } }, services: { dns: { loadBalancer: { servers: [] } } } },
      opts: { allowEmptyServices: true },
    },
    {
      desc: 'useBindPortIP: the UDP binding of the port, not the TCP one',
      workloads: [
        container('dns', { 'traefik.udp.routers.dns.service': 'dns' }, {
          ports: [53],
          udpPorts: [53],
          instances: [{ id: 'i', networks: [{ network: 'golf', ip: '10.0.0.2' }], bindings: [{ port: 53, hostIp: '192.0.2.1', hostPort: 1053 }, { port: 53, protocol: 'udp', hostIp: '192.0.2.1', hostPort: 2053 }] }],
        }),
      ],
      udp: { routers: { dns: { service: 'dns' } }, services: { dns: { loadBalancer: { servers: [{ address: '192.0.2.1:2053' }] } } } },
      opts: { useBindPortIP: true },
    },
    {
      desc: 'HTTP and UDP on one container: both served',
      workloads: [container('web', { 'traefik.http.routers.web.rule': 'Host(`web`)', 'traefik.udp.routers.u.service': 'u', 'traefik.udp.services.u.loadbalancer.server.port': '9999' })],
      udp: { routers: { u: { service: 'u' } }, services: { u: { loadBalancer: { servers: [{ address: '10.0.0.2:9999' }] } } } },
      http: { routers: { web: { rule: 'Host(`web`)', service: 'web' } }, services: { web: { loadBalancer: { passHostHeader: true, servers: [{ url: 'http://10.0.0.2:80' }] } } } },
    },
    {
      desc: 'a router without service next to two services: that router disabled, the services kept',
      workloads: [container('dns', { 'traefik.udp.routers.r.entrypoints': 'dns', 'traefik.udp.services.a.loadbalancer.server.port': '53', 'traefik.udp.services.b.loadbalancer.server.port': '54' }, udpOnly)],
      udp: { services: { a: { loadBalancer: { servers: [{ address: '10.0.0.2:53' }] } }, b: { loadBalancer: { servers: [{ address: '10.0.0.2:54' }] } } } },
      problems: { 'udp.routers/r': /^container "dns": UDP router r names no service and container "dns" defines 2 \(a, b\); set traefik\.udp\.routers\.r\.service$/ },
    },
    {
      desc: 'several UDP ports and no port label: the service is disabled, and the router with it at runtime',
      workloads: [container('dns', { 'traefik.udp.routers.dns.service': 'dns' }, { ports: [], udpPorts: [53, 5353] })],
      udp: { routers: { dns: { service: 'dns' } } },
      problems: { 'udp.services/dns': /^container "dns" exposes several ports \(53, 5353\) and no UDP server\.port label says which one to use; set traefik\.udp\.services\.dns\.loadbalancer\.server\.port$/ },
    },
    {
      desc: 'weighted is not read from labels (as Traefik); an unknown router field',
      workloads: [container('dns', { 'traefik.udp.services.w.weighted.services[0].name': 'x', 'traefik.udp.routers.r.rule': 'x', 'traefik.udp.routers.ok.service': 'w' }, udpOnly)],
      udp: { routers: { ok: { service: 'w' } } },
      problems: { 'udp.services/w': /label traefik\.udp\.services\.w\.weighted: unknown field 'weighted' \(known: loadBalancer\)/, 'udp.routers/r': /label traefik\.udp\.routers\.r\.rule="x": unknown field 'rule' \(known: entryPoints, service\)/ },
    },
    {
      desc: 'a label outside every element disables the UDP elements too',
      workloads: [container('dns', { 'traefik.enable': 'maybe', 'traefik.udp.routers.dns.service': 'dns' }, udpOnly)],
      udp: undefined,
      problems: { 'udp.routers/dns': /^container "dns": label traefik\.enable: expected true or false \(got "maybe"\)$/ },
    },
    {
      desc: 'two containers defining one UDP router differently: it is disabled',
      workloads: [
        container('a', { 'traefik.udp.routers.dns.service': 'a' }, udpOnly),
        container('b', { 'traefik.udp.routers.dns.service': 'b' }, { ...udpOnly, id: 'id-b2' }),
      ],
      udp: { services: { a: { loadBalancer: { servers: [{ address: '10.0.0.2:53' }] } }, b: { loadBalancer: { servers: [{ address: '10.0.0.2:53' }] } } } },
      problems: { 'udp.routers/dns': /^UDP router dns is defined differently by container "a" and container "b"/ },
    },
  ];
  for (const c of cases) {
    const { config } = buildConfiguration(c.workloads, options({ labelPrefix: 'traefik', ...c.opts }));
    assert.deepEqual(config.config.udp, c.udp, `${c.desc}: udp`);
    assert.deepEqual(config.config.http, c.http, `${c.desc}: http`);
    const got = Object.fromEntries(config.problems.map((p) => [`${p.kind}/${p.name}`, p.messages.join('\n')]));
    assert.deepEqual(Object.keys(got).sort(), Object.keys(c.problems ?? {}).sort(), `${c.desc}: problems ${JSON.stringify(got)}`);
    for (const [key, re] of Object.entries(c.problems ?? {})) assert.match(got[key]!, re, `${c.desc}: ${key}`);
  }
});

test('docker configuration: mirroring, failover, highestRandomWeight, weighted.sticky, strategy and service middlewares labels, as in a Traefik 3.7 stack', () => {
  const labels = {
    'wharf.http.routers.app.rule': 'Host(`app`)',
    'wharf.http.routers.app.service': 'front',
    'wharf.http.services.live.loadbalancer.server.port': '80',
    'wharf.http.services.live.loadbalancer.strategy': 'p2c',
    'wharf.http.services.live.loadbalancer.passivehealthcheck.maxfailedattempts': '3',
    'wharf.http.services.front.mirroring.service': 'fo',
    'wharf.http.services.front.mirroring.mirrorbody': 'false',
    'wharf.http.services.front.mirroring.maxbodysize': '1024',
    'wharf.http.services.front.mirroring.mirrors[0].name': 'shadow@file',
    'wharf.http.services.front.mirroring.mirrors[0].percent': '10',
    'wharf.http.services.front.mirroring.healthcheck': '',
    'wharf.http.services.fo.failover.service': 'w',
    'wharf.http.services.fo.failover.fallback': 'spare@file',
    'wharf.http.services.fo.failover.healthCheck': 'true',
    'wharf.http.services.w.weighted.services[0].name': 'live',
    'wharf.http.services.w.weighted.services[0].weight': '2',
    'wharf.http.services.w.weighted.sticky.cookie.name': 'pin',
    'wharf.http.services.live.middlewares': 'auth, strip@file',
    'wharf.http.services.fo.failover.errors.status': '500-504',
    'wharf.http.services.hrw.highestrandomweight.services[0].name': 'live',
  };
  const { config } = buildConfiguration([container('web', labels)], options({ registry: new PluginRegistry().register(passive) }));
  assert.deepEqual(config.problems, []);
  const services = config.config.http!.services!;
  assert.deepEqual(services.front, { mirroring: { service: 'fo', mirrorBody: false, maxBodySize: 1024, mirrors: [{ name: 'shadow@file', percent: 10 }], healthCheck: {} } });
  assert.deepEqual(services.fo, { failover: { service: 'w', fallback: 'spare@file', healthCheck: {}, errors: { status: ['500-504'], maxRequestBodyBytes: -1 } } });
  assert.deepEqual(services.hrw, { highestRandomWeight: { services: [{ name: 'live', weight: 1 }] } });
  assert.deepEqual(services.live!.middlewares, ['auth', 'strip@file']);
  assert.deepEqual(services.w, { weighted: { services: [{ name: 'live', weight: 2 }], sticky: { cookie: { name: 'pin' } } } });
  assert.equal(services.live!.loadBalancer!.strategy, 'p2c');
  assert.deepEqual((services.live!.loadBalancer as Record<string, unknown>).passiveHealthCheck, { maxFailedAttempts: 3 });
  assert.deepEqual(services.live!.loadBalancer!.servers, [{ url: 'http://10.0.0.2:80' }]);
});

test('docker configuration: a bad strategy or mirror percent disables that service only, naming the label', () => {
  const labels = {
    'wharf.http.routers.app.rule': 'Host(`app`)',
    'wharf.http.routers.app.service': 'live',
    'wharf.http.services.live.loadbalancer.server.port': '80',
    'wharf.http.services.odd.loadbalancer.server.port': '80',
    'wharf.http.services.odd.loadbalancer.strategy': 'fastest',
    'wharf.http.services.copy.mirroring.service': 'live',
    'wharf.http.services.copy.mirroring.mirrors[0].name': 'live',
    'wharf.http.services.copy.mirroring.mirrors[0].percent': '150',
  };
  const { config } = buildConfiguration([container('web', labels)], options());
  const byName = Object.fromEntries(config.problems.map((p) => [`${p.kind}/${p.name}`, p.messages.join('\n')]));
  assert.match(byName['services/odd'] ?? '', /label wharf\.http\.services\.odd\.loadbalancer\.strategy.*fastest/);
  assert.match(byName['services/copy'] ?? '', /label wharf\.http\.services\.copy\.mirroring\.mirrors\[0\]\.percent="150": must be <= 100/);
  assert.deepEqual(Object.keys(byName).sort(), ['services/copy', 'services/odd']);
  assert.ok(config.config.http!.services!.live);
});

test('swarm configuration: TCP servers are the tasks on swarm.network, or its VIP with lbswarm', () => {
  const labels = { 'traefik.tcp.routers.db.rule': 'HostSNI(`*`)', 'traefik.tcp.services.db.loadbalancer.server.port': '5432', 'traefik.swarm.network': 'front' };
  const addresses = (more: Record<string, string>) => {
    const { config } = buildConfiguration([swarmService('pg', { ...labels, ...more })], options({ provider: 'swarm', labelPrefix: 'traefik' }));
    assert.deepEqual(config.problems, []);
    return (config.config.tcp as { services: Record<string, { loadBalancer: { servers: { address: string }[] } }> }).services.db!.loadBalancer.servers.map((s) => s.address);
  };
  assert.deepEqual(addresses({}), ['10.2.0.5:5432']);
  assert.deepEqual(addresses({ 'traefik.swarm.lbswarm': 'true' }), ['10.2.0.100:5432']);
});
