// examples/acme/stack.yml cannot rot: the gateway's flags go through the static configuration decoder with this
// plugin registered and pass the resolver's own checks; the app's deploy labels go through the swarm provider's label
// decoder, and the router they define asks resolver `le` for a certificate covering its Host() names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { RouterInfo } from '@wharf/core';
import { decodeStatic, PluginRegistry, readStaticSources } from '@wharf/core/config';
import ping from '@wharf/plugin-ping';
import redirectScheme from '@wharf/plugin-redirectscheme';
import tls from '@wharf/plugin-tls';
import { buildConfiguration, compileTemplate, providers, swarmOptions, type SwarmProviderConfig, type Workload } from '@wharf/provider-docker';
import { parse } from 'yaml';
import acme, { checkResolver, routerRequest } from './index.js';

const STACK = new URL('../../../examples/acme/stack.yml', import.meta.url);

interface StackFile {
  services: Record<string, { command?: string[]; deploy?: { replicas?: number; labels?: string[] } }>;
}

function registry(): PluginRegistry {
  const r = new PluginRegistry().register(acme).register(tls).register(redirectScheme).register(ping);
  for (const provider of providers) r.registerProvider(provider);
  return r;
}

/** A swarm service with one running task on the `web` network, as the provider would list it. */
function service(name: string, labels: string[]): Workload {
  return {
    kind: 'service',
    id: `id-${name}`,
    name,
    title: `service "${name}"`,
    labels: Object.fromEntries(labels.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])),
    containerName: name,
    ready: true,
    ports: [],
    instances: [{ id: `task-${name}`, networks: [{ network: 'web', ip: '10.0.1.5' }], bindings: [] }],
    virtualIPs: [],
  };
}

test('the gateway flags decode: two replicas, resolver le on a Redis store with HTTP-01 on web', () => {
  const stack = parse(readFileSync(STACK, 'utf8')) as StackFile;
  const gateway = stack.services.gateway!;
  assert.equal(gateway.deploy?.replicas, 2);
  const config = decodeStatic(readStaticSources(gateway.command!, {}), registry());
  const resolver = checkResolver('le', (config.certificatesResolvers as Record<string, Parameters<typeof checkResolver>[1]>).le!, Object.keys(config.entryPoints));
  assert.equal(resolver.storage, 'redis://redis:6379/0');
  assert.equal(resolver.httpChallenge?.entryPoint, 'web');
  assert.equal(resolver.email, 'ops@example.com');
  assert.equal(resolver.caServer, 'https://acme-v02.api.letsencrypt.org/directory');
  assert.deepEqual(Object.keys(config.entryPoints).sort(), ['web', 'websecure']);
});

test("the app's Traefik labels decode into a router asking resolver le for its Host() names", () => {
  const stack = parse(readFileSync(STACK, 'utf8')) as StackFile;
  const config = decodeStatic(readStaticSources(stack.services.gateway!.command!, {}), registry());
  const swarm = swarmOptions(config.providers.swarm as SwarmProviderConfig);
  const { config: built } = buildConfiguration([service('acme_app', stack.services.app!.deploy!.labels!)], {
    provider: 'swarm',
    labelPrefix: swarm.labelPrefix,
    exposedByDefault: swarm.exposedByDefault,
    ...(swarm.network ? { network: swarm.network } : {}),
    useBindPortIP: swarm.useBindPortIP,
    allowEmptyServices: swarm.allowEmptyServices,
    defaultRule: compileTemplate(swarm.defaultRule, 'defaultRule'),
    registry: registry(),
  });
  assert.deepEqual(built.problems, []);
  const router = built.config.http!.routers!.app!;
  assert.deepEqual(router.tls, { certResolver: 'le' });
  assert.deepEqual(built.config.http!.services!.app!.loadBalancer!.servers, [{ url: 'http://10.0.1.5:80' }]);
  const info = { name: 'app@swarm', provider: 'swarm', status: 'enabled', entryPoints: ['websecure'], middlewares: [], config: router } as unknown as RouterInfo;
  assert.deepEqual(routerRequest(info, config), { router: 'app@swarm', resolver: 'le', sets: [{ main: 'app.example.com', sans: ['www.app.example.com'] }] });
});
