// Labels → dynamic configuration with the one generic decoder: the labels under `<prefix>.` become a tree
// (flatToTree) decoded against a label schema derived from dynamicSchema(registry), so every plugin's
// options work as labels without this file knowing them. The only label-specific shape is
// `loadBalancer.server.{port,scheme,…}` in place of `servers[]`, which the provider fills from addresses.
import type { TSchema } from '@sinclair/typebox';
import { Type } from '@wharf/core';
import { dynamicSchema, flatToTree, type DecodeIssue, type MiddlewareConfig, type PluginRegistry, type RouterConfig, type ServerConfig, type ServiceConfig, type TreeObject } from '@wharf/core/provider';

/** `loadBalancer.server` as labels write it: where to connect on each container or task. */
export interface LabelServer {
  port?: number;
  scheme?: 'http' | 'https' | 'h2c';
  url?: string;
  weight?: number;
  preservePath?: boolean;
}

export type LabelService = Omit<ServiceConfig, 'loadBalancer'> & {
  loadBalancer?: Omit<NonNullable<ServiceConfig['loadBalancer']>, 'servers'> & { server?: LabelServer; servers?: ServerConfig[] };
};

export type LabelRouter = Partial<RouterConfig>;

export interface LabelHTTP {
  routers?: Record<string, LabelRouter>;
  services?: Record<string, LabelService>;
  middlewares?: Record<string, MiddlewareConfig>;
}

/** `<prefix>.swarm.*`: Traefik 3's names for the swarm provider's own labels. */
export interface LabelSwarm {
  network?: string;
  lbswarm?: boolean;
}

/** `<prefix>.docker.*`: the docker provider's own labels (and Traefik 2's names for swarm's). */
export interface LabelDocker extends LabelSwarm {
  allowNonRunning?: boolean;
}

/** The decoded labels of one container or service. */
export interface LabelConfig {
  enable?: boolean;
  docker?: LabelDocker;
  swarm?: LabelSwarm;
  http?: LabelHTTP;
}

const cache = new WeakMap<TSchema, TSchema>();

/** The label schema for the plugins registered now (rebuilt when dynamicSchema changes). */
export function labelSchema(registry: PluginRegistry): TSchema {
  const dynamic = dynamicSchema(registry);
  const hit = cache.get(dynamic);
  if (hit) return hit;
  const http = property(dynamic, 'http');
  const routers = property(http, 'routers');
  const services = property(http, 'services');
  const service = routers && services ? (services.additionalProperties as TSchema) : undefined;
  const router = routers?.additionalProperties as TSchema | undefined;
  if (!router || !service) throw new Error('dynamicSchema changed shape: http.routers / http.services maps are expected');
  const loadBalancer = property(service, 'loadBalancer')!;
  const { servers, ...lbProperties } = loadBalancer.properties as Record<string, TSchema>;
  const labelLoadBalancer = {
    ...loadBalancer,
    properties: { ...lbProperties, server: Type.Optional(labelServerSchema(servers!.items as TSchema)) },
    required: without(loadBalancer.required, 'servers'),
  };
  const labelService = { ...service, properties: { ...(service.properties as object), loadBalancer: labelLoadBalancer } };
  // rule and service are filled from defaultRule and the container's only service when absent.
  const labelRouter = { ...router, required: without(router.required, 'rule', 'service') };
  // serversTransports are left out: labels cannot define them (see takeServersTransports).
  const { serversTransports: _transports, ...httpProperties } = http!.properties as Record<string, TSchema>;
  const labelHTTP = {
    ...http,
    properties: {
      ...httpProperties,
      routers: { ...routers, additionalProperties: labelRouter },
      services: { ...services, additionalProperties: labelService },
    },
  } as TSchema;
  const schema = Type.Object(
    {
      enable: Type.Optional(Type.Boolean({ description: 'Serve this container or service (default: providers.docker.exposedByDefault).' })),
      docker: Type.Optional(
        Type.Object(
          {
            ...providerLabelProperties(),
            allowNonRunning: Type.Optional(Type.Boolean({ description: 'Docker: keep a container that is not running (or not healthy) in the configuration, without servers.' })),
          },
          { additionalProperties: false },
        ),
      ),
      swarm: Type.Optional(Type.Object(providerLabelProperties(), { additionalProperties: false })),
      http: Type.Optional(labelHTTP),
    },
    { additionalProperties: false },
  );
  cache.set(dynamic, schema);
  return schema;
}

/** network and lbswarm, written under `docker.` (containers, Traefik 2 swarm) or `swarm.` (Traefik 3 swarm). */
function providerLabelProperties() {
  return {
    network: Type.Optional(Type.String({ minLength: 1, description: 'Network whose address the servers use.' })),
    lbswarm: Type.Optional(Type.Boolean({ description: 'Swarm: use the service virtual IP instead of task IPs.' })),
  };
}

/** The model's server schema turned into the label form: everything optional, plus port and scheme. */
function labelServerSchema(server: TSchema): TSchema {
  const optional = Object.fromEntries(Object.entries(server.properties as Record<string, TSchema>).map(([k, v]) => [k, Type.Optional(v)]));
  return Type.Object(
    {
      port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'Port on the container or task (default: its only exposed port).' })),
      scheme: Type.Optional(Type.Unsafe<'http' | 'https' | 'h2c'>({ type: 'string', enum: ['http', 'https', 'h2c'], description: 'http (default), https, or h2c (HTTP/2 without TLS, e.g. gRPC).' })),
      ...optional,
    },
    { additionalProperties: false },
  );
}

function property(schema: TSchema | undefined, name: string): TSchema | undefined {
  return (schema?.properties as Record<string, TSchema> | undefined)?.[name];
}

function without(required: unknown, ...names: string[]): string[] | undefined {
  const kept = ((required as string[] | undefined) ?? []).filter((r) => !names.includes(r));
  return kept.length > 0 ? kept : undefined;
}

/** The labels under `<prefix>.`, prefix removed; the prefix matches case-insensitively like every key. */
export function labelTree(labels: Readonly<Record<string, string>>, prefix: string): TreeObject {
  const start = `${prefix.toLowerCase()}.`;
  const entries: [string, string][] = [];
  for (const [key, value] of Object.entries(labels)) {
    if (key.toLowerCase().startsWith(start)) entries.push([key.slice(start.length), value]);
  }
  return flatToTree(entries);
}

/** The child object `name` of a tree node (case-insensitive), created when `create` is set. */
export function treeChild(node: TreeObject, name: string, create: boolean): TreeObject | undefined {
  const key = Object.keys(node).find((k) => k.toLowerCase() === name.toLowerCase());
  const child = key === undefined ? undefined : node[key];
  if (child !== undefined && typeof child !== 'string') return child;
  if (!create || typeof child === 'string') return undefined;
  const created: TreeObject = {};
  node[key ?? name] = created;
  return created;
}

/** Element names per kind as the labels write them (valid or not). */
export function treeElementNames(tree: TreeObject, kind: 'routers' | 'services' | 'middlewares'): string[] {
  const http = treeChild(tree, 'http', false);
  const elements = http && treeChild(http, kind, false);
  return elements ? Object.keys(elements) : [];
}

/**
 * Takes `http.serversTransports.<name>` out of the tree and returns the names as written. As in Traefik (whose
 * label decoder skips them), transports are not defined in labels: they hold CA and key material, which belongs in
 * files. Taking them out lets the rest of the container decode while each transport is reported, not dropped.
 */
export function takeServersTransports(tree: TreeObject): string[] {
  const http = treeChild(tree, 'http', false);
  const key = http && Object.keys(http).find((k) => k.toLowerCase() === 'serverstransports');
  if (!http || key === undefined) return [];
  const transports = http[key]!;
  if (typeof transports === 'string') return []; // `http.serversTransports=x`: left to the decoder, which rejects it
  delete http[key];
  return Object.keys(transports);
}

/** The labels (as written) that define serversTransport `name`, sorted. */
export function serversTransportLabels(labels: Readonly<Record<string, string>>, prefix: string, name: string): string[] {
  return labelsUnder(labels, `${prefix}.http.serverstransports.${name}`);
}

/** The labels (as written) at `path` or below it, matched case-insensitively, sorted. */
export function labelsUnder(labels: Readonly<Record<string, string>>, path: string): string[] {
  const start = path.toLowerCase();
  return Object.keys(labels)
    .filter((key) => {
      const lower = key.toLowerCase();
      return lower === start || lower.startsWith(`${start}.`) || lower.startsWith(`${start}[`);
    })
    .sort();
}

/** Top-level label namespaces Traefik reads that are decoded apart from `http`, each reported on its own. */
export const OTHER_NAMESPACES = ['tcp', 'udp', 'tls'] as const;
export type OtherNamespace = (typeof OTHER_NAMESPACES)[number];

/**
 * Takes the `tcp`, `udp` and `tls` subtrees out of the tree and returns them. Decoding them with the rest would
 * make one of their labels an issue of the whole workload and disable its HTTP routers too; taken out, each is
 * handled and reported on its own and the HTTP part decodes as if they were not there.
 */
export function takeOtherNamespaces(tree: TreeObject): Partial<Record<OtherNamespace, TreeObject>> {
  const found: Partial<Record<OtherNamespace, TreeObject>> = {};
  for (const namespace of OTHER_NAMESPACES) {
    for (const key of Object.keys(tree).filter((k) => k.toLowerCase() === namespace)) {
      const value = tree[key]!;
      delete tree[key];
      // `traefik.tcp=x` has no children: kept as an empty subtree so it is still reported.
      found[namespace] = typeof value === 'string' ? {} : value;
    }
  }
  return found;
}

/**
 * The schema of `tls.stores.default` from the tls plugin's dynamic section, or undefined when no plugin owns
 * `tls`. Traefik decodes only this part of `tls.*` from labels (pkg/config/label: filter traefik.tls.stores.default).
 */
export function tlsStoreSchema(registry: PluginRegistry): TSchema | undefined {
  const stores = property(property(dynamicSchema(registry), 'tls'), 'stores');
  return stores?.additionalProperties as TSchema | undefined;
}

/** Whether the tree has any `http.*` label (Traefik adds no default HTTP router to a TCP/UDP-only container). */
export function hasHTTP(tree: TreeObject): boolean {
  return Object.keys(tree).some((k) => k.toLowerCase() === 'http');
}

/** Whether `<prefix>.docker.allowNonRunning` is true (before decoding: the provider lists stopped containers with it). */
export function allowsNonRunning(labels: Readonly<Record<string, string>>, prefix: string): boolean {
  const key = `${prefix}.docker.allownonrunning`.toLowerCase();
  return Object.entries(labels).some(([k, v]) => k.toLowerCase() === key && v.trim().toLowerCase() === 'true');
}

/** Adds what Traefik adds: a service named after the workload when none is labelled, and a router when there is one service. */
export function addDefaultElements(tree: TreeObject, name: string): void {
  const http = treeChild(tree, 'http', true);
  if (!http) return;
  const services = treeChild(http, 'services', true);
  if (services && Object.keys(services).length === 0) services[name] = { loadBalancer: {} };
  const routers = treeChild(http, 'routers', true);
  if (routers && Object.keys(routers).length === 0 && services && Object.keys(services).length === 1) routers[name] = {};
}

/** The full label for a decoder path as the user wrote it (`traefik.http.routers.api.rule`). */
export function labelKey(prefix: string, written: readonly string[]): string {
  return `${prefix}.${written.join('.').replace(/\.\[/g, '[')}`;
}

/**
 * One decoder issue as a message naming who, the label, its value and what was expected. Errors on one
 * item of a comma-separated list point at the label holding the list.
 */
export function issueMessage(who: string, issue: DecodeIssue, labels: Readonly<Record<string, string>>): string {
  const found = findLabel(labels, issue.source);
  const showValue = found && !issue.message.includes('(got ');
  return `${who}: label ${found?.[0] ?? issue.source}${showValue ? `=${JSON.stringify(found[1])}` : ''}: ${issue.message}`;
}

function findLabel(labels: Readonly<Record<string, string>>, label: string): [string, string] | undefined {
  let key = label;
  for (;;) {
    const lower = key.toLowerCase();
    const hit = Object.entries(labels).find(([k]) => k.toLowerCase() === lower);
    if (hit) return hit;
    const shorter = key.replace(/\[\d+\]$/, '');
    if (shorter === key) return undefined;
    key = shorter;
  }
}
