// TCP and UDP elements in Traefik's shapes (pkg/api/testdata/tcp*.json, udp*.json, overview-dynamic.json).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Duration, Secret, Type, type RuntimeInfo, type TCPRouterInfo, type TCPServiceInfo, type UDPRouterInfo, type UDPServiceInfo } from '@wharf/core';
import {
  REDACTED,
  overview,
  rawData,
  tcpMiddlewareRepresentation,
  tcpRouterRepresentation,
  tcpServiceRepresentation,
  udpRouterRepresentation,
  udpServiceRepresentation,
} from './present.js';

const tcpRouter: TCPRouterInfo = {
  name: 'test@myprovider',
  provider: 'myprovider',
  status: 'enabled',
  config: { entryPoints: ['web'], rule: 'HostSNI(`foo.bar.other`)', service: 'foo-service', tls: { passthrough: false } },
  entryPoints: ['web'],
  middlewares: [],
  service: 'foo-service@myprovider',
  priority: 25,
};

const tcpService: TCPServiceInfo = {
  name: 'bar@myprovider',
  provider: 'myprovider',
  status: 'enabled',
  config: { loadBalancer: { servers: [{ address: '127.0.0.1:2345' }] } },
  type: 'loadBalancer',
  usedBy: ['foo@myprovider', 'test@myprovider'],
  serverStatus: { '127.0.0.1:2345': 'UP' },
};

const udpRouter: UDPRouterInfo = {
  name: 'foo@myprovider',
  provider: 'myprovider',
  status: 'disabled',
  config: { entryPoints: ['dns'], service: 'nowhere' },
  entryPoints: ['dns'],
  errors: ['the service "nowhere@myprovider" does not exist'],
};

const udpService: UDPServiceInfo = {
  name: 'bar@myprovider',
  provider: 'myprovider',
  status: 'enabled',
  config: { loadBalancer: { servers: [{ address: '127.0.0.1:2345' }] } },
  type: 'loadBalancer',
  usedBy: ['test@myprovider'],
};

test('tcpRouterRepresentation: Traefik fields, priorityStr, using, qualified service', () => {
  assert.deepEqual(tcpRouterRepresentation(tcpRouter, {}), {
    entryPoints: ['web'],
    service: 'foo-service@myprovider',
    rule: 'HostSNI(`foo.bar.other`)',
    priority: 25,
    priorityStr: '25',
    tls: { passthrough: false },
    status: 'enabled',
    using: ['web'],
    name: 'test@myprovider',
    provider: 'myprovider',
  });
});

test('tcpRouterRepresentation: a router that failed keeps its configured middlewares (qualified) and shows its errors once', () => {
  const broken: TCPRouterInfo = {
    name: 'db@file',
    provider: 'file',
    status: 'disabled',
    config: { rule: 'HostSNI(`db`', service: 'db', middlewares: ['allow'] },
    entryPoints: [],
    middlewares: [],
    errors: ['bad rule', 'bad rule'],
  };
  const shown = tcpRouterRepresentation(broken, {});
  assert.deepEqual([shown.middlewares, shown.service, shown.error, shown.using, shown.priorityStr], [['allow@file'], 'db@file', ['bad rule'], undefined, '0']);
});

test('tcpServiceRepresentation and udpServiceRepresentation: type in lower case, serverStatus for TCP only', () => {
  assert.deepEqual(tcpServiceRepresentation(tcpService, {}), {
    loadBalancer: { servers: [{ address: '127.0.0.1:2345' }] },
    status: 'enabled',
    usedBy: ['foo@myprovider', 'test@myprovider'],
    serverStatus: { '127.0.0.1:2345': 'UP' },
    type: 'loadbalancer',
    name: 'bar@myprovider',
    provider: 'myprovider',
  });
  assert.deepEqual(udpServiceRepresentation(udpService, {}), {
    loadBalancer: { servers: [{ address: '127.0.0.1:2345' }] },
    status: 'enabled',
    usedBy: ['test@myprovider'],
    type: 'loadbalancer',
    name: 'bar@myprovider',
    provider: 'myprovider',
  });
});

test('tcpMiddlewareRepresentation: options through the schema (secrets hidden, durations printed), type from the config key', () => {
  const tcpMiddleware = Type.Object({ vault: Type.Object({ token: Secret(), grace: Duration() }) });
  const shown = tcpMiddlewareRepresentation(
    { name: 'v@file', provider: 'file', status: 'enabled', config: { vault: { token: 'x', grace: 1500 } }, usedBy: ['db@file'] },
    { tcpMiddleware },
  );
  assert.deepEqual(shown, { vault: { token: REDACTED, grace: '1.5s' }, status: 'enabled', usedBy: ['db@file'], type: 'vault', name: 'v@file', provider: 'file' });
});

test('udpRouterRepresentation: entryPoints, service, status, using, error', () => {
  assert.deepEqual(udpRouterRepresentation(udpRouter, {}), {
    entryPoints: ['dns'],
    service: 'nowhere@myprovider',
    status: 'disabled',
    using: ['dns'],
    name: 'foo@myprovider',
    provider: 'myprovider',
    error: ['the service "nowhere@myprovider" does not exist'],
  });
});

const info: RuntimeInfo = {
  routers: {},
  services: {},
  middlewares: {},
  tcp: { routers: { [tcpRouter.name]: tcpRouter }, services: { [tcpService.name]: tcpService }, middlewares: {} },
  udpRouters: { [udpRouter.name]: udpRouter },
  udpServices: { [udpService.name]: udpService },
} as unknown as RuntimeInfo;

test('overview: tcp and udp counts as Traefik (errors = disabled), their providers listed', () => {
  const shown = overview(info, {});
  assert.deepEqual(shown.tcp, {
    routers: { total: 1, warnings: 0, errors: 0 },
    services: { total: 1, warnings: 0, errors: 0 },
    middlewares: { total: 0, warnings: 0, errors: 0 },
  });
  assert.deepEqual(shown.udp, { routers: { total: 1, warnings: 0, errors: 1 }, services: { total: 1, warnings: 0, errors: 0 } });
  assert.deepEqual(shown.providers, ['Myprovider']);
});

test('overview: zero counts for tcp and udp when the configuration has none', () => {
  const shown = overview({ routers: {}, services: {}, middlewares: {} } as unknown as RuntimeInfo, {});
  assert.deepEqual(shown.udp, { routers: { total: 0, warnings: 0, errors: 0 }, services: { total: 0, warnings: 0, errors: 0 } });
  assert.deepEqual((shown.tcp as Record<string, unknown>).routers, { total: 0, warnings: 0, errors: 0 });
});

test('rawData: tcpRouters, tcpServices, udpRouters, udpServices by name without name/provider/priorityStr; empty ones left out', () => {
  const raw = rawData(info, {});
  assert.deepEqual(Object.keys(raw), ['routers', 'middlewares', 'services', 'tcpRouters', 'tcpServices', 'udpRouters', 'udpServices']);
  const router = (raw.tcpRouters as Record<string, Record<string, unknown>>)['test@myprovider']!;
  assert.equal(router.priorityStr, undefined);
  assert.equal(router.name, undefined);
  assert.deepEqual(router.using, ['web']);
  assert.deepEqual((raw.udpServices as Record<string, unknown>)['bar@myprovider'], {
    loadBalancer: { servers: [{ address: '127.0.0.1:2345' }] },
    status: 'enabled',
    usedBy: ['test@myprovider'],
    type: 'loadbalancer',
  });
});
