// UDP ports as the engine reports them (`53/udp` keys, swarm endpoint ports with Protocol udp), through the
// workload and the labels to a UDP server address, with and without useBindPortIP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PluginRegistry } from '@wharf/core/config';
import { buildConfiguration, type BuildOptions } from './configuration.js';
import { compileTemplate } from './template.js';
import { DEFAULT_RULE } from './options.js';
import { containerWorkload, serviceWorkload, type EngineContainer, type EngineService } from './workload.js';

const options = (more: Partial<BuildOptions> = {}): BuildOptions => ({
  provider: 'docker',
  labelPrefix: 'traefik',
  exposedByDefault: true,
  useBindPortIP: false,
  allowEmptyServices: false,
  defaultRule: compileTemplate(DEFAULT_RULE, 'defaultRule'),
  registry: new PluginRegistry(),
  ...more,
});

const dnsContainer = (ports: Record<string, Array<{ HostIp?: string; HostPort?: string }> | null>): EngineContainer => ({
  Id: 'c1',
  Name: '/dns',
  Config: { Labels: { 'traefik.udp.routers.dns.entrypoints': 'dns' } },
  State: { Running: true },
  NetworkSettings: { Ports: ports, Networks: { front: { IPAddress: '172.18.0.5' } } },
});

test('docker UDP: a container exposing 53/udp and 8080/tcp is served on 53 over UDP', () => {
  const w = containerWorkload(dnsContainer({ '53/udp': null, '8080/tcp': null }), false, () => undefined);
  assert.deepEqual([w.ports, w.udpPorts], [[8080], [53]]);
  const { config } = buildConfiguration([w], options());
  assert.deepEqual(config.config, {
    udp: { routers: { dns: { entryPoints: ['dns'], service: 'dns' } }, services: { dns: { loadBalancer: { servers: [{ address: '172.18.0.5:53' }] } } } },
  });
  assert.deepEqual(config.problems, []);
});

test('docker UDP: useBindPortIP takes the host binding of the UDP port, not the TCP one of the same number', () => {
  const w = containerWorkload(dnsContainer({ '53/tcp': [{ HostIp: '192.0.2.7', HostPort: '1053' }], '53/udp': [{ HostIp: '192.0.2.7', HostPort: '2053' }] }), false, () => undefined);
  const { config } = buildConfiguration([w], options({ useBindPortIP: true }));
  assert.deepEqual(config.config.udp?.services, { dns: { loadBalancer: { servers: [{ address: '192.0.2.7:2053' }] } } });
  const http = buildConfiguration([containerWorkload({ ...dnsContainer({ '53/tcp': [{ HostIp: '192.0.2.7', HostPort: '1053' }], '53/udp': [{ HostIp: '192.0.2.7', HostPort: '2053' }] }), Config: { Labels: {} } }, false, () => undefined)], options({ useBindPortIP: true }));
  assert.deepEqual(http.config.config.http?.services, { dns: { loadBalancer: { passHostHeader: true, servers: [{ url: 'http://192.0.2.7:1053' }] } } }, 'HTTP keeps the TCP binding');
});

test('docker UDP: a swarm service publishing a UDP port, one server per task', () => {
  const service: EngineService = {
    ID: 's1',
    Spec: { Name: 'resolver', Labels: { 'traefik.udp.routers.r.service': 'resolver' }, EndpointSpec: { Ports: [{ TargetPort: 53, Protocol: 'udp' }, { TargetPort: 9153, Protocol: 'tcp' }] } },
  };
  const task = (id: string, ip: string) => ({ ID: id, ServiceID: 's1', DesiredState: 'running', Status: { State: 'running' }, NetworksAttachments: [{ Network: { ID: 'n1', Spec: { Name: 'back' } }, Addresses: [`${ip}/24`] }] });
  const w = serviceWorkload(service, [task('t1', '10.0.1.3'), task('t2', '10.0.1.4')], new Map(), new Map(), new Set());
  assert.deepEqual([w.ports, w.udpPorts], [[9153], [53]]);
  const { config } = buildConfiguration([w], options({ provider: 'swarm' }));
  assert.deepEqual(config.config.udp, {
    routers: { r: { service: 'resolver' } },
    services: { resolver: { loadBalancer: { servers: [{ address: '10.0.1.3:53' }, { address: '10.0.1.4:53' }] } } },
  });
});
