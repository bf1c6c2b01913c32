// `<prefix>.udp.*` labels → udp routers and services, as Traefik's docker provider builds them: a service named
// after the workload when none is labelled, a router without service linked to the only one, and each service's
// server at the instance's address and `loadbalancer.server.port` (default: the only exposed port, UDP first).
import type { TSchema } from '@sinclair/typebox';
import { Type } from '@wharf/core';
import { decode, dynamicSchema, type DecodeIssue, type ElementProblem, type PluginRegistry, type TreeObject, type UDPRouterConfig, type UDPServiceConfig } from '@wharf/core/provider';
import { issueMessage, labelKey } from './labels.js';
import type { Workload } from './workload.js';

/** What a workload's UDP labels add. */
export interface UDPContribution {
  routers: Record<string, UDPRouterConfig>;
  services: Record<string, UDPServiceConfig>;
  problems: ElementProblem[];
  warnings: string[];
}

interface LabelUDP {
  routers?: Record<string, Partial<UDPRouterConfig>>;
  services?: Record<string, { loadBalancer?: { server?: { port?: number } } }>;
}

export interface UDPLabelOptions {
  prefix: string;
  registry: PluginRegistry;
  /** Whether the workload is served now; otherwise services keep no server (Traefik's empty load balancer). */
  ready: boolean;
  /** host:port of every instance for a port (IPv6 in brackets), or why there is none; warnings go to `warnings`. */
  hosts(port: number, warnings: string[]): string[] | string;
}

export function udpContribution(w: Workload, tree: TreeObject, options: UDPLabelOptions): UDPContribution {
  const c: UDPContribution = { routers: {}, services: {}, problems: [], warnings: [] };
  const { prefix } = options;
  const describe = (issue: DecodeIssue) => issueMessage(w.title, issue, w.labels);
  const decoded = decode<LabelUDP>(udpLabelSchema(options.registry), tree, { describe: (written) => labelKey(prefix, ['udp', ...written]) });
  const names = { routers: childNames(tree, 'routers'), services: childNames(tree, 'services') };
  if (decoded.issues.length > 0) {
    // A label outside every router and service (`udp.foo`): which ones it concerns is unknown, so none is served.
    const messages = decoded.issues.map(describe);
    for (const kind of ['routers', 'services'] as const) for (const name of names[kind]) c.problems.push({ kind: `udp.${kind}`, name, messages });
    if (names.routers.length + names.services.length === 0) c.problems.push({ kind: 'udp.routers', name: w.name, messages });
    return c;
  }
  for (const [path, issues] of decoded.disabled) {
    const [kind, ...name] = path.split('.');
    c.problems.push({ kind: kind === 'services' ? 'udp.services' : 'udp.routers', name: name.join('.'), messages: issues.map(describe) });
  }
  const value = decoded.value ?? {};
  const services = { ...value.services };
  if (names.services.length === 0) services[w.name] = { loadBalancer: {} };
  for (const [name, service] of Object.entries(services)) {
    const servers = serversFor(w, name, service.loadBalancer?.server?.port, options, c.warnings);
    if (typeof servers === 'string') c.problems.push({ kind: 'udp.services', name, messages: [servers] });
    else c.services[name] = { loadBalancer: { servers } };
  }
  const serviceNames = names.services.length === 0 ? [w.name] : names.services;
  for (const [name, router] of Object.entries(value.routers ?? {})) {
    if (router.service !== undefined) c.routers[name] = router as UDPRouterConfig;
    else if (serviceNames.length === 1) c.routers[name] = { ...router, service: serviceNames[0]! };
    else {
      const message = `${w.title}: UDP router ${name} names no service and ${w.title} defines ${serviceNames.length} (${serviceNames.join(', ')}); set ${prefix}.udp.routers.${name}.service`;
      c.problems.push({ kind: 'udp.routers', name, messages: [message] });
    }
  }
  return c;
}

function serversFor(w: Workload, service: string, labelled: number | undefined, options: UDPLabelOptions, warnings: string[]): { address: string }[] | string {
  if (!options.ready) return [];
  const label = `${options.prefix}.udp.services.${service}.loadbalancer.server.port`;
  const port = labelled ?? defaultPort(w);
  if (typeof port === 'string') return `${port}; set ${label}`;
  const hosts = options.hosts(port, warnings);
  if (typeof hosts === 'string') return hosts;
  return [...new Set(hosts)].sort().map((address) => ({ address }));
}

/** The only exposed UDP port, else the only exposed port (Traefik takes any protocol's); several are an error. */
function defaultPort(w: Workload): number | string {
  const ports = w.udpPorts?.length ? w.udpPorts : w.ports;
  if (ports.length === 1) return ports[0]!;
  if (ports.length === 0) return `${w.title} exposes no port`;
  return `${w.title} exposes several ports (${ports.join(', ')}) and no UDP server.port label says which one to use`;
}

function childNames(tree: TreeObject, kind: string): string[] {
  const key = Object.keys(tree).find((k) => k.toLowerCase() === kind);
  const child = key === undefined ? undefined : tree[key];
  return child && typeof child !== 'string' ? Object.keys(child) : [];
}

const cache = new WeakMap<TSchema, TSchema>();

/**
 * The label form of the `udp` section: routers may leave `service` out, services have `loadBalancer.server.port`
 * in place of `servers`, and `weighted` is not read from labels (as in Traefik).
 */
export function udpLabelSchema(registry: PluginRegistry): TSchema {
  const dynamic = dynamicSchema(registry);
  const hit = cache.get(dynamic);
  if (hit) return hit;
  const udp = property(dynamic, 'udp');
  const routers = property(udp, 'routers');
  const services = property(udp, 'services');
  const router = routers?.additionalProperties as TSchema | undefined;
  const service = services?.additionalProperties as TSchema | undefined;
  if (!router || !service) throw new Error('dynamicSchema changed shape: udp.routers / udp.services maps are expected');
  const server = Type.Object(
    { port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'Port on the container or task (default: its only exposed port, UDP first).' })) },
    { additionalProperties: false },
  );
  const labelService = { ...service, properties: { loadBalancer: Type.Optional(Type.Object({ server: Type.Optional(server) }, { additionalProperties: false })) } };
  const { required: _required, ...labelRouter } = router;
  const schema = {
    ...udp,
    properties: { routers: { ...routers, additionalProperties: labelRouter }, services: { ...services, additionalProperties: labelService } },
  } as TSchema;
  cache.set(dynamic, schema);
  return schema;
}

function property(schema: TSchema | undefined, name: string): TSchema | undefined {
  return (schema?.properties as Record<string, TSchema> | undefined)?.[name];
}

/** The UDP routers and services a subtree names (or the workload's default router), for workload-wide errors. */
export function udpElementNames(tree: TreeObject, workload: string): { kind: 'udp.routers' | 'udp.services'; name: string }[] {
  const found = [...childNames(tree, 'routers').map((name) => ({ kind: 'udp.routers' as const, name })), ...childNames(tree, 'services').map((name) => ({ kind: 'udp.services' as const, name }))];
  return found.length > 0 ? found : [{ kind: 'udp.routers', name: workload }];
}
