import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Duration, MapOf, Secret, Type, type RouterInfo, type ServiceInfo } from '@wharf/core';
import { REDACTED, present, routerRepresentation, serviceRepresentation, overview } from './present.js';

const options = Type.Object({
  users: Type.Array(Secret()),
  realm: Type.String(),
  token: Type.Union([Type.Boolean(), Secret()]),
  nested: Type.Object({ apiKey: Secret(), timeout: Duration() }),
  headers: MapOf(Type.String()),
});

test('present: secrets become xxxx, durations 10s, everything else is copied', () => {
  const cases: { desc: string; value: unknown; expected: unknown }[] = [
    { desc: 'list of secrets', value: { users: ['a:1', 'b:2'] }, expected: { users: [REDACTED, REDACTED] } },
    { desc: 'plain string', value: { realm: 'wharf' }, expected: { realm: 'wharf' } },
    { desc: 'union: the secret variant hides strings', value: { token: 's3cr3t' }, expected: { token: REDACTED } },
    { desc: 'union: booleans are shown', value: { token: true }, expected: { token: true } },
    { desc: 'nested secret and duration', value: { nested: { apiKey: 'k', timeout: 1500 } }, expected: { nested: { apiKey: REDACTED, timeout: '1.5s' } } },
    { desc: 'map values keep their keys', value: { headers: { 'X-A': '1' } }, expected: { headers: { 'X-A': '1' } } },
    { desc: 'fields the schema does not know are copied', value: { other: { x: 1 } }, expected: { other: { x: 1 } } },
  ];
  for (const { desc, value, expected } of cases) assert.deepEqual(present(options, value), expected, desc);
  assert.deepEqual(present(undefined, { a: [1, 'x'] }), { a: [1, 'x'] });
});

test('routerRepresentation: Traefik field names, qualified service and middlewares, error only when there are errors', () => {
  const info: RouterInfo = {
    name: 'api@docker',
    provider: 'docker',
    status: 'disabled',
    config: { rule: 'Host(`a`', service: 'api', middlewares: ['auth'] },
    entryPoints: [],
    middlewares: [],
    errors: ['invalid rule'],
  };
  assert.deepEqual(routerRepresentation(info, {}), {
    middlewares: ['auth@docker'],
    service: 'api@docker',
    rule: 'Host(`a`',
    status: 'disabled',
    name: 'api@docker',
    provider: 'docker',
    error: ['invalid rule'],
  });
  const ok: RouterInfo = { ...info, status: 'enabled', errors: undefined, config: { rule: 'Host(`a`)', service: 'api' }, entryPoints: ['web'], middlewares: ['auth@docker'], service: 'api@docker', priority: 9 };
  const rep = routerRepresentation(ok, {});
  assert.deepEqual(Object.keys(rep), ['entryPoints', 'middlewares', 'service', 'rule', 'priority', 'status', 'using', 'name', 'provider']);
  assert.deepEqual(rep.using, ['web']);
  const twice: RouterInfo = { ...info, errors: ['middleware x is disabled', 'middleware x is disabled'] };
  assert.deepEqual(routerRepresentation(twice, {}).error, ['middleware x is disabled'], 'a message recorded once per entrypoint is shown once');
});

test('serviceRepresentation: lowercase type, serverStatus, no type for internal services', () => {
  const lb: ServiceInfo = {
    name: 's@file', provider: 'file', status: 'enabled', type: 'loadBalancer', usedBy: ['r@file'],
    config: { loadBalancer: { servers: [{ url: 'http://a' }], passHostHeader: true } }, serverStatus: { 'http://a': 'DOWN' },
  };
  assert.deepEqual(serviceRepresentation(lb, {}), {
    loadBalancer: { servers: [{ url: 'http://a' }], passHostHeader: true },
    status: 'enabled', usedBy: ['r@file'], serverStatus: { 'http://a': 'DOWN' }, name: 's@file', provider: 'file', type: 'loadbalancer',
  });
  const internal: ServiceInfo = { name: 'api@internal', provider: 'internal', status: 'enabled', type: 'internal', usedBy: [] };
  assert.deepEqual(serviceRepresentation(internal, {}), { status: 'enabled', name: 'api@internal', provider: 'internal' });
});

test('overview: errors count disabled elements, warnings count warnings; providers from config and elements', () => {
  const r = (name: string, status: 'enabled' | 'disabled' | 'warning', provider = 'file') => ({ name: `${name}@${provider}`, provider, status, entryPoints: [], middlewares: [] });
  const info = {
    generation: 1,
    routers: Object.fromEntries([r('a', 'enabled'), r('b', 'disabled'), r('c', 'warning'), r('d', 'disabled', 'docker')].map((x) => [x.name, x])),
    services: {},
    middlewares: {},
  };
  const o = overview(info, { providers: { providersThrottleDuration: 2000, file: { filename: 'x' } }, accessLog: {} }) as {
    http: Record<string, unknown>;
    providers: string[];
    features: { accessLog: boolean };
  };
  assert.deepEqual(o.http.routers, { total: 4, warnings: 1, errors: 2 });
  assert.deepEqual(o.http.services, { total: 0, warnings: 0, errors: 0 });
  assert.deepEqual(o.providers, ['Docker', 'File']);
  assert.equal(o.features.accessLog, true);
});

test('overview features name the first configured backend as Traefik does (its Go field name), not the first option', () => {
  const info = { generation: 1, routers: {}, services: {}, middlewares: {} };
  const features = (staticConfig: Record<string, unknown>) => (overview(info, staticConfig) as { features: Record<string, unknown> }).features;
  assert.deepEqual(features({ tracing: { serviceName: 'wharf', sampleRate: 1, otlp: { http: {} } }, metrics: { prometheus: { buckets: [0.1] } } }), { tracing: 'OTLP', metrics: 'Prometheus', accessLog: false });
  assert.deepEqual(features({ tracing: { serviceName: 'wharf' } }), { tracing: '', metrics: '', accessLog: false }, 'no backend configured');
});
