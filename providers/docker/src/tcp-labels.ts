// `<prefix>.tcp.*` labels → the provider's `tcp` section, as Traefik's docker/swarm providers read them: routers,
// services with `loadbalancer.server.{port,tls}` filled in from the workload's addresses, middlewares. A router
// without service takes the workload's only TCP service, and a workload without one gets a service named after it
// on its only exposed port (Traefik's port inference). serversTransports and weighted services are not read from
// labels, as in Traefik.
import { Type, type TSchema } from '@wharf/core';
import { decode, dynamicSchema, type DecodeIssue, type ElementProblem, type PluginRegistry, type TreeObject } from '@wharf/core/provider';

export interface TCPLabelServer {
  port?: number;
  tls?: boolean;
}

interface TCPLabelService {
  loadBalancer?: { server?: TCPLabelServer; serversTransport?: string; proxyProtocol?: { version: number }; terminationDelay?: number };
}

interface TCPLabels {
  routers?: Record<string, Record<string, unknown> & { service?: string }>;
  services?: Record<string, TCPLabelService>;
  middlewares?: Record<string, Record<string, unknown>>;
}

/** The TCP elements of one workload, and the problems of those it could not build. */
export interface TCPContribution {
  routers: Record<string, unknown>;
  services: Record<string, unknown>;
  middlewares: Record<string, unknown>;
  problems: ElementProblem[];
}

export interface TCPLabelContext {
  /** Workload name (`whoami`): the default service's name. */
  name: string;
  title: string;
  labelPrefix: string;
  registry: PluginRegistry;
  /** Full label for a decoder path under `tcp` (`traefik.tcp.routers.db.rule`). */
  labelKey(written: readonly string[]): string;
  describe(issue: DecodeIssue): string;
  /** host:port of every instance for a port (or why none), as the HTTP servers get them. */
  addresses(port: number): string[] | string;
  /** The workload's only exposed port, or why there is none. */
  defaultPort(): number | string;
  /** Whether the workload has running instances (allowEmptyServices keeps the rest without servers). */
  ready: boolean;
}

const cache = new WeakMap<TSchema, TSchema>();

/** The `tcp` label schema: the model's with `loadBalancer.server` in place of `servers`, and router services optional. */
function tcpLabelSchema(registry: PluginRegistry): TSchema {
  const dynamic = dynamicSchema(registry);
  const hit = cache.get(dynamic);
  if (hit) return hit;
  const tcp = property(dynamic, 'tcp')!;
  const routers = property(tcp, 'routers')!;
  const services = property(tcp, 'services')!;
  const router = routers.additionalProperties as TSchema;
  const service = services.additionalProperties as TSchema;
  const loadBalancer = property(service, 'loadBalancer')!;
  const { servers: _servers, ...lbProperties } = loadBalancer.properties as Record<string, TSchema>;
  const server = Type.Object(
    {
      port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'Port on the container or task (default: its only exposed port).' })),
      tls: Type.Optional(Type.Boolean({ description: 'Connect to the server with TLS.' })),
    },
    { additionalProperties: false },
  );
  const labelLoadBalancer = { ...loadBalancer, properties: { ...lbProperties, server: Type.Optional(server) }, required: undefined };
  // weighted services are not read from labels (Traefik's label:"-").
  const labelService = { ...service, properties: { loadBalancer: labelLoadBalancer }, minProperties: 0 };
  const labelRouter = { ...router, required: ((router.required as string[] | undefined) ?? []).filter((r) => r !== 'service') };
  const schema = {
    ...tcp,
    properties: {
      routers: { ...routers, additionalProperties: labelRouter },
      services: { ...services, additionalProperties: labelService },
      middlewares: property(tcp, 'middlewares'),
    },
  } as TSchema;
  cache.set(dynamic, schema);
  return schema;
}

/** Decodes a workload's `tcp` labels; problems disable only the elements they touch. */
export function tcpFromLabels(tree: TreeObject, context: TCPLabelContext): TCPContribution {
  const c: TCPContribution = { routers: {}, services: {}, middlewares: {}, problems: [] };
  const prefix = `${context.labelPrefix}.tcp`;
  if (Object.keys(tree).some((k) => k.toLowerCase() === 'serverstransports')) {
    c.problems.push({ kind: 'tcp.serversTransports', name: context.name, messages: [`${context.title}: ${prefix}.serversTransports.* labels: serversTransports cannot be defined in labels; define them in a file (providers.file) under tcp.serversTransports`] });
    for (const key of Object.keys(tree)) if (key.toLowerCase() === 'serverstransports') delete tree[key];
  }
  const decoded = decode<TCPLabels>(tcpLabelSchema(context.registry), tree, { describe: (written) => context.labelKey(written) });
  if (decoded.issues.length > 0) {
    // A label outside every element (`tcp.routerz…`): which TCP elements are meant is unknown, so none is served.
    c.problems.push({ kind: 'tcp.routers', name: `${context.name}.tcp`, messages: decoded.issues.map(context.describe) });
    return c;
  }
  for (const [path, issues] of decoded.disabled) {
    const [kind, ...name] = path.split('.');
    c.problems.push({ kind: `tcp.${kind}` as ElementProblem['kind'], name: name.join('.'), messages: issues.map(context.describe) });
  }
  const labels = decoded.value ?? {};
  Object.assign(c.middlewares, labels.middlewares);
  const services = { ...labels.services };
  const disabledServices = new Set(c.problems.filter((p) => p.kind === 'tcp.services').map((p) => p.name));
  const routers = Object.entries(labels.routers ?? {});
  // Traefik adds a service named after the workload when routers exist and no service is labelled.
  if (Object.keys(services).length === 0 && disabledServices.size === 0 && routers.length > 0) services[context.name] = { loadBalancer: {} };
  const serviceNames = [...Object.keys(services), ...disabledServices];
  for (const [name, service] of Object.entries(services)) addService(c, name, service, context);
  for (const [name, router] of routers) {
    if (router.service === undefined) {
      if (serviceNames.length !== 1) {
        c.problems.push({ kind: 'tcp.routers', name, messages: [`${context.title}: TCP router ${name} names no service and ${context.title} defines ${serviceNames.length} TCP services (${serviceNames.join(', ')}); set ${prefix}.routers.${name}.service`] });
        continue;
      }
      c.routers[name] = { ...router, service: serviceNames[0] };
    } else c.routers[name] = router;
  }
  return c;
}

function addService(c: TCPContribution, name: string, service: TCPLabelService, context: TCPLabelContext): void {
  const { server = {}, ...loadBalancer } = service.loadBalancer ?? {};
  if (!context.ready) return void (c.services[name] = { loadBalancer: { ...loadBalancer, servers: [] } });
  const port = server.port ?? context.defaultPort();
  if (typeof port === 'string') {
    c.problems.push({ kind: 'tcp.services', name, messages: [`${port}; set ${context.labelPrefix}.tcp.services.${name}.loadbalancer.server.port`] });
    return;
  }
  const addresses = context.addresses(port);
  if (typeof addresses === 'string') return void c.problems.push({ kind: 'tcp.services', name, messages: [addresses] });
  const servers = [...new Set(addresses)].sort().map((address) => ({ address, ...(server.tls !== undefined && { tls: server.tls }) }));
  c.services[name] = { loadBalancer: { ...loadBalancer, servers } };
}

function property(schema: TSchema | undefined, name: string): TSchema | undefined {
  return (schema?.properties as Record<string, TSchema> | undefined)?.[name];
}
