// examples/forwardauth/docker-compose.yml cannot rot: its labels go through the Docker provider's label decoder with
// this plugin registered, and the middlewares they define pass forwardAuth's own checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PluginRegistry } from '@wharf/core/config';
import { buildConfiguration, compileTemplate, DEFAULT_RULE, type Workload } from '@wharf/provider-docker';
import { parse } from 'yaml';
import forwardAuth, { type ForwardAuthConfig } from './index.js';

const COMPOSE = new URL('../../../examples/forwardauth/docker-compose.yml', import.meta.url);

interface ComposeFile {
  services: Record<string, { labels?: string[] | Record<string, string> }>;
}

/** Compose labels as a map, from either of the two forms Compose accepts. */
function labelsOf(labels: string[] | Record<string, string> | undefined): Record<string, string> {
  if (labels === undefined) return {};
  if (!Array.isArray(labels)) return labels;
  return Object.fromEntries(labels.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

/** Each Compose service as a running container on one network, as the provider would list it. */
function workloads(compose: ComposeFile): Workload[] {
  return Object.entries(compose.services).map(([name, service], i) => ({
    kind: 'container',
    id: `id-${name}`,
    name,
    title: `container "${name}"`,
    labels: labelsOf(service.labels),
    containerName: name,
    ready: true,
    ports: [80],
    instances: [{ id: `id-${name}`, networks: [{ network: 'sso', ip: `10.0.0.${i + 2}` }], bindings: [] }],
    virtualIPs: [],
  }));
}

test('the example labels decode without a problem into the Authelia and oauth2-proxy middlewares', () => {
  const compose = parse(readFileSync(COMPOSE, 'utf8')) as ComposeFile;
  const { config } = buildConfiguration(workloads(compose), {
    provider: 'docker',
    labelPrefix: 'wharf',
    exposedByDefault: false,
    useBindPortIP: false,
    allowEmptyServices: false,
    defaultRule: compileTemplate(DEFAULT_RULE, 'defaultRule'),
    registry: new PluginRegistry().register(forwardAuth),
  });
  assert.deepEqual(config.problems, []);
  const http = config.config.http!;
  const middlewares = http.middlewares as Record<string, { forwardAuth?: ForwardAuthConfig }>;
  assert.deepEqual(Object.keys(middlewares).sort(), ['authelia', 'oauth2']);
  const authelia = middlewares.authelia!.forwardAuth!;
  assert.equal(authelia.address, 'http://authelia:9091/api/authz/forward-auth');
  assert.equal(authelia.trustForwardHeader, true);
  assert.deepEqual(authelia.authResponseHeaders, ['Remote-User', 'Remote-Groups', 'Remote-Email', 'Remote-Name']);
  assert.equal(authelia.headerField, 'Remote-User');
  const oauth2 = middlewares.oauth2!.forwardAuth!;
  assert.equal(oauth2.address, 'http://oauth2-proxy:4180/');
  assert.deepEqual(oauth2.authResponseHeaders, ['X-Auth-Request-User', 'X-Auth-Request-Email', 'X-Auth-Request-Access-Token', 'Authorization']);
  assert.deepEqual(oauth2.addAuthCookiesToResponse, ['_oauth2_proxy']);
  for (const [name, middleware] of Object.entries(middlewares)) assert.doesNotThrow(() => forwardAuth.validate!(middleware.forwardAuth!), name);
  // The protected routers use them; the portals themselves are not behind them.
  const routers = http.routers!;
  assert.deepEqual(routers.app?.middlewares, ['authelia@docker']);
  assert.deepEqual(routers.app2?.middlewares, ['oauth2@docker']);
  assert.equal(routers.authelia?.middlewares, undefined);
  assert.equal(routers.oauth2?.middlewares, undefined);
  assert.equal(routers.oauth2?.rule, 'Host(`app2.example.com`) && PathPrefix(`/oauth2/`)');
  assert.deepEqual(Object.keys(routers).sort(), ['app', 'app2', 'authelia', 'oauth2']);
});
