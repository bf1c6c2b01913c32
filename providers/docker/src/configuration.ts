// Workloads → one provider snapshot: labels decoded per container/service, Traefik's defaults (service on the
// only port, router with defaultRule), servers from addresses, then replicas merged by element name.
// A problem disables only the elements it touches and is kept, with who and which label, in `problems`.
import { isDeepStrictEqual } from 'node:util';
import { decode, type TreeObject, type DecodeIssue, type ElementKind, type ElementProblem, type MiddlewareConfig, type PluginRegistry, type ProviderConfig, type RouterConfig, type ServerConfig, type ServiceConfig, type UDPRouterConfig, type UDPServiceConfig } from '@wharf/core/provider';
import type { LabelPredicate } from './constraints.js';
import {
  addDefaultElements,
  hasHTTP,
  issueMessage,
  labelKey,
  labelSchema,
  labelsUnder,
  labelTree,
  serversTransportLabels,
  takeOtherNamespaces,
  takeServersTransports,
  tlsStoreSchema,
  treeChild,
  treeElementNames,
  type LabelConfig,
  type LabelServer,
  type LabelService,
} from './labels.js';
import { tcpFromLabels } from './tcp-labels.js';
import type { RuleTemplate } from './template.js';
import type { Instance, Workload } from './workload.js';
import { udpContribution, udpElementNames } from './udp.js';

export interface BuildOptions {
  /** Provider name: `docker` or `swarm` (elements are `name@docker`). */
  provider: string;
  labelPrefix: string;
  exposedByDefault: boolean;
  network?: string;
  useBindPortIP: boolean;
  allowEmptyServices: boolean;
  defaultRule: RuleTemplate;
  constraints?: LabelPredicate;
  registry: PluginRegistry;
}

export interface BuildResult {
  config: ProviderConfig;
  /** Degraded but served (a network not found, one task without an address): logged once by the provider. */
  warnings: string[];
  /** Workloads left out on purpose, with why (debug log). */
  skipped: string[];
}

/** What one workload adds: elements by kind and the problems of those it could not build. */
interface Contribution {
  owner: string;
  routers: Record<string, RouterConfig>;
  services: Record<string, ServiceConfig>;
  middlewares: Record<string, MiddlewareConfig>;
  'udp.routers': Record<string, UDPRouterConfig>;
  'udp.services': Record<string, UDPServiceConfig>;
  'tcp.routers': Record<string, unknown>;
  'tcp.services': Record<string, unknown>;
  'tcp.middlewares': Record<string, unknown>;
  problems: ElementProblem[];
  warnings: string[];
  /** `tls.stores.default` from labels (the only TLS part Traefik reads there). */
  tlsStore?: Record<string, unknown>;
}

export function buildConfiguration(workloads: readonly Workload[], options: BuildOptions): BuildResult {
  const merger = new Merger();
  const warnings: string[] = [];
  const skipped: string[] = [];
  const sorted = [...workloads].sort((a, b) => a.title.localeCompare(b.title) || a.id.localeCompare(b.id));
  for (const workload of sorted) {
    const result = contribution(workload, options);
    if (typeof result === 'string') {
      skipped.push(`${workload.title}: ${result}`);
      continue;
    }
    merger.add(result);
    warnings.push(...result.warnings);
  }
  return { config: { provider: options.provider, ...merger.result() }, warnings, skipped };
}

/** The elements of one workload, or why it is left out. */
function contribution(w: Workload, options: BuildOptions): Contribution | string {
  if (options.constraints && !options.constraints(w.labels)) return 'it does not match the constraints';
  const prefix = options.labelPrefix;
  const tree = labelTree(w.labels, prefix);
  const transports = takeServersTransports(tree);
  const others = takeOtherNamespaces(tree);
  // As Traefik: a container labelled for TCP or UDP only gets no default HTTP router and service.
  const layer4Only = (others.tcp !== undefined || others.udp !== undefined) && !hasHTTP(tree);
  if (!layer4Only) addDefaultElements(tree, w.name);
  const decoded = decode<LabelConfig>(labelSchema(options.registry), tree, { describe: (written) => labelKey(prefix, written) });
  const value = decoded.value ?? {};
  const enabled = value.enable ?? options.exposedByDefault;
  if (decoded.issues.length === 0 && !enabled) return `it is not enabled (set ${prefix}.enable=true)`;
  const own = providerLabels(w, value, options);
  const ready = w.ready || (own.lbswarm && w.virtualIPs.length > 0);
  if (!ready && !options.allowEmptyServices && !own.allowNonRunning) return `not served: ${w.notReady ?? 'not ready'}`;
  const c: Contribution = { owner: w.title, routers: {}, services: {}, middlewares: {}, 'tcp.routers': {}, 'tcp.services': {}, 'tcp.middlewares': {}, 'udp.routers': {}, 'udp.services': {}, problems: [], warnings: [...own.warnings] };
  c.problems.push(...transports.map((name) => transportInLabels(w, name, prefix)));
  if (others.tls) addTLS(c, w, others.tls, options);
  const describe = (issue: DecodeIssue) => issueMessage(w.title, issue, w.labels);
  const workloadErrors = [...decoded.issues.map(describe), ...(own.error ? [own.error] : [])];
  if (others.tcp) addTCP(c, w, others.tcp, { ready, ...own }, options, workloadErrors);
  if (workloadErrors.length > 0) {
    // A label outside every element (enable, docker.*, swarm.*, an unknown namespace) concerns the whole workload,
    // its TLS store included: whether it is served at all is unknown.
    for (const kind of ['routers', 'services', 'middlewares'] as const) {
      for (const name of treeElementNames(tree, kind)) c.problems.push({ kind, name, messages: workloadErrors });
    }
    if (others.udp) for (const { kind, name } of udpElementNames(others.udp, w.name)) c.problems.push({ kind, name, messages: workloadErrors });
    delete c.tlsStore;
    return c;
  }
  for (const [path, issues] of decoded.disabled) {
    const [, kind, ...name] = path.split('.');
    c.problems.push({ kind: kind as ElementKind, name: name.join('.'), messages: issues.map(describe) });
  }
  const http = value.http ?? {};
  Object.assign(c.middlewares, http.middlewares);
  const serviceNames = treeElementNames(tree, 'services');
  for (const [name, service] of Object.entries(http.services ?? {})) addService(c, w, name, service, { ready, ...own }, options);
  for (const [name, router] of Object.entries(http.routers ?? {})) addRouter(c, w, name, router, serviceNames, options);
  if (others.udp) addUDP(c, w, others.udp, { ready, ...own }, options);
  return c;
}

function addUDP(c: Contribution, w: Workload, tree: TreeObject, context: ServerContext, options: BuildOptions): void {
  const hosts = (port: number, warnings: string[]) => (context.lbswarm ? virtualIP(w, port, context) : instanceHosts(w, port, context.network, options, warnings, 'udp'));
  const udp = udpContribution(w, tree, { prefix: options.labelPrefix, registry: options.registry, ready: context.ready, hosts });
  Object.assign(c['udp.routers'], udp.routers);
  Object.assign(c['udp.services'], udp.services);
  c.problems.push(...udp.problems);
  c.warnings.push(...udp.warnings);
}

/** What the provider's own labels (`docker.*`, `swarm.*`) say for one workload, with Traefik's precedence. */
interface ProviderLabels {
  network?: string;
  lbswarm: boolean;
  /** The label that set lbswarm, for messages. */
  lbswarmLabel: string;
  allowNonRunning: boolean;
  warnings: string[];
  /** Set when the labels contradict each other: the workload is not served. */
  error?: string;
}

/**
 * Traefik 3's docker provider reads `docker.*` (network, allowNonRunning) and ignores `swarm.*`; its swarm
 * provider reads `swarm.*`, still accepts `docker.*` with a deprecation warning, rejects both at once, and
 * ignores allowNonRunning. Wharf's providers.docker with swarmMode reads swarm services the same way.
 */
function providerLabels(w: Workload, value: LabelConfig, options: BuildOptions): ProviderLabels {
  const prefix = options.labelPrefix;
  const list = (namespace: string, field?: string) => labelsUnder(w.labels, `${prefix}.${namespace}${field ? `.${field}` : ''}`).join(', ');
  const labels = (namespace: string, field?: string) => plural(labelsUnder(w.labels, `${prefix}.${namespace}${field ? `.${field}` : ''}`));
  if (w.kind === 'container') {
    const warnings = value.swarm ? [`${w.title}: ${labels('swarm')}: ${prefix}.swarm.* labels are read by the swarm provider only; ignored for containers`] : [];
    const docker = value.docker ?? {};
    return { network: docker.network ?? options.network, lbswarm: docker.lbswarm === true, lbswarmLabel: `${prefix}.docker.lbswarm`, allowNonRunning: docker.allowNonRunning === true, warnings };
  }
  const warnings: string[] = [];
  if (value.docker?.allowNonRunning !== undefined) warnings.push(`${w.title}: ${labels('docker', 'allownonrunning')}: has no effect on swarm services (Traefik reads it for containers only); ignored`);
  if (value.docker && value.swarm) {
    const error = `${w.title}: labels ${list('docker')} and ${list('swarm')}: both ${prefix}.docker.* and ${prefix}.swarm.* are set; keep only ${prefix}.swarm.*`;
    return { lbswarm: false, lbswarmLabel: '', allowNonRunning: false, warnings, error };
  }
  // Only the v3 form (providers.swarm) calls docker.* deprecated: they are the v2 form's own names.
  const deprecated = value.docker && options.provider === 'swarm' && (value.docker.network !== undefined || value.docker.lbswarm !== undefined);
  if (deprecated) warnings.push(`${w.title}: ${labels('docker')}: ${prefix}.docker.* labels on swarm services are deprecated (Traefik 3); use ${prefix}.swarm.* instead`);
  const namespace = value.swarm ? 'swarm' : 'docker';
  const source = value.swarm ?? value.docker ?? {};
  return { network: source.network ?? options.network, lbswarm: source.lbswarm === true, lbswarmLabel: `${prefix}.${namespace}.lbswarm`, allowNonRunning: false, warnings };
}

/**
 * The workload's TCP routers, services and middlewares (see tcp-labels.ts); with a workload-level error (a label
 * outside every element, contradicting provider labels) none is served and each router shows that error.
 */
function addTCP(c: Contribution, w: Workload, tree: TreeObject, context: ServerContext, options: BuildOptions, workloadErrors: readonly string[]): void {
  const tcp = tcpFromLabels(tree, {
    name: w.name,
    title: w.title,
    labelPrefix: options.labelPrefix,
    registry: options.registry,
    labelKey: (written) => labelKey(options.labelPrefix, ['tcp', ...written]),
    describe: (issue) => issueMessage(w.title, issue, w.labels),
    addresses: (port) => (context.lbswarm ? virtualIP(w, port, context) : instanceHosts(w, port, context.network, options, c.warnings)),
    defaultPort: () => defaultPort(w),
    ready: context.ready,
  });
  if (workloadErrors.length > 0) {
    for (const name of Object.keys(tcp.routers)) c.problems.push({ kind: 'tcp.routers', name, messages: [...workloadErrors] });
    return;
  }
  c.problems.push(...tcp.problems);
  Object.assign(c['tcp.routers'], tcp.routers);
  Object.assign(c['tcp.services'], tcp.services);
  Object.assign(c['tcp.middlewares'], tcp.middlewares);
}

/**
 * `tls.*` labels as Traefik reads them: `tls.stores.default.*` is decoded (against the tls plugin's schema) into
 * the provider's `tls` section; the rest (options, other stores, certificates) Traefik ignores, and Wharf reports.
 * Errors go to one disabled router `<workload>.tls` (a name with a dot, which no label-defined router can have, so it
 * never replaces a real one); HTTP is not affected.
 */
function addTLS(c: Contribution, w: Workload, tls: TreeObject, options: BuildOptions): void {
  const prefix = options.labelPrefix;
  const storeLabels = labelsUnder(w.labels, `${prefix}.tls.stores.default`);
  const otherLabels = labelsUnder(w.labels, `${prefix}.tls`).filter((l) => !storeLabels.includes(l));
  const messages: string[] = [];
  if (otherLabels.length > 0) {
    messages.push(
      `${w.title}: ${plural(otherLabels)}: only ${prefix}.tls.stores.default.* is read from labels (Traefik ignores the rest too); ` +
        'define TLS options and certificates in a file (providers.file) under tls.options and tls.certificates; these labels are ignored',
    );
  }
  const store = storeLabels.length > 0 ? defaultStore(w, tls, options) : undefined;
  if (typeof store === 'string') messages.push(store);
  else if (store) c.tlsStore = store;
  if (messages.length > 0) c.problems.push({ kind: 'routers', name: `${w.name}.tls`, messages });
}

/** The decoded `tls.stores.default` labels, or why they cannot be used. */
function defaultStore(w: Workload, tls: TreeObject, options: BuildOptions): Record<string, unknown> | string {
  const prefix = options.labelPrefix;
  const schema = tlsStoreSchema(options.registry);
  const labels = labelsUnder(w.labels, `${prefix}.tls.stores.default`);
  if (!schema) return `${w.title}: ${plural(labels)}: no plugin handles tls (the tls plugin is not loaded); these labels are ignored`;
  const stores = treeChild(tls, 'stores', false);
  const store = stores && treeChild(stores, 'default', false);
  if (!store) return `${w.title}: ${plural(labels)}: expected ${prefix}.tls.stores.default.<field>=<value>`;
  const decoded = decode<Record<string, unknown>>(schema, store, { describe: (written) => labelKey(prefix, ['tls', 'stores', 'default', ...written]) });
  if (decoded.issues.length > 0) return decoded.issues.map((issue) => issueMessage(w.title, issue, w.labels)).join('; ');
  return decoded.value;
}

function plural(labels: readonly string[]): string {
  return `label${labels.length > 1 ? 's' : ''} ${labels.join(', ')}`;
}

/** serversTransports are not read from labels (as in Traefik): an error on the transport, so services using it say why. */
function transportInLabels(w: Workload, name: string, prefix: string): ElementProblem {
  const labels = serversTransportLabels(w.labels, prefix, name);
  return problem(
    'serversTransports',
    name,
    `${w.title}: label${labels.length > 1 ? 's' : ''} ${labels.join(', ')}: serversTransports cannot be defined in labels; ` +
      `define serversTransport '${name}' in a file (providers.file) and set ${prefix}.http.services.<service>.loadbalancer.serversTransport=${name}@file`,
  );
}

function addRouter(c: Contribution, w: Workload, name: string, router: Partial<RouterConfig>, services: string[], options: BuildOptions): void {
  const prefix = options.labelPrefix;
  const complete = { ...router };
  if (!complete.rule) {
    complete.rule = options.defaultRule({ Name: w.name, ContainerName: w.containerName, Labels: w.labels }).trim();
    if (!complete.rule) {
      return void c.problems.push(problem('routers', name, `${w.title}: router ${name} has no rule and the defaultRule template gave an empty one; set ${prefix}.http.routers.${name}.rule`));
    }
  }
  if (!complete.service) {
    if (services.length !== 1) {
      const listed = services.join(', ');
      return void c.problems.push(
        problem('routers', name, `${w.title}: router ${name} names no service and ${w.title} defines ${services.length} (${listed}); set ${prefix}.http.routers.${name}.service`),
      );
    }
    complete.service = services[0]!;
  }
  c.routers[name] = complete as RouterConfig;
}

interface ServerContext {
  ready: boolean;
  lbswarm: boolean;
  lbswarmLabel: string;
  network?: string;
}

function addService(c: Contribution, w: Workload, name: string, service: LabelService, context: ServerContext, options: BuildOptions): void {
  if (!service.loadBalancer) {
    c.services[name] = service as ServiceConfig;
    return;
  }
  const { server = {}, ...loadBalancer } = service.loadBalancer;
  const servers = serversFor(w, name, server, context, options);
  if (typeof servers === 'string') {
    c.problems.push(problem('services', name, servers));
    return;
  }
  c.warnings.push(...servers.warnings);
  c.services[name] = { ...service, loadBalancer: { ...loadBalancer, servers: servers.servers } } as ServiceConfig;
}

/** The servers of one service on this workload, or an error message. */
function serversFor(w: Workload, service: string, server: LabelServer, context: ServerContext, options: BuildOptions): { servers: ServerConfig[]; warnings: string[] } | string {
  const label = (field: string) => `${options.labelPrefix}.http.services.${service}.loadbalancer.server.${field}`;
  const extra = { ...(server.weight !== undefined && { weight: server.weight }), ...(server.preservePath !== undefined && { preservePath: server.preservePath }) };
  if (server.url !== undefined) {
    if (server.port !== undefined || server.scheme !== undefined) return `${w.title}: label ${label('url')} cannot be combined with server.port or server.scheme`;
    return { servers: [{ url: server.url, ...extra }], warnings: [] };
  }
  if (!context.ready) return { servers: [], warnings: [] }; // allowEmptyServices: the service answers 503
  const port = server.port ?? defaultPort(w);
  if (typeof port === 'string') return `${port}; set ${label('port')}`;
  const scheme = server.scheme ?? 'http';
  const warnings: string[] = [];
  const hosts = context.lbswarm ? virtualIP(w, port, context) : instanceHosts(w, port, context.network, options, warnings);
  if (typeof hosts === 'string') return hosts;
  const urls = [...new Set(hosts.map((host) => `${scheme}://${host}`))].sort();
  return { servers: urls.map((url) => ({ url, ...extra })), warnings };
}

function defaultPort(w: Workload): number | string {
  if (w.ports.length === 1) return w.ports[0]!;
  if (w.ports.length === 0) return `${w.title} exposes no port`;
  return `${w.title} exposes several ports (${w.ports.join(', ')}) and no server.port label says which one to use`;
}

function virtualIP(w: Workload, port: number, { network, lbswarmLabel }: ServerContext): string[] | string {
  const chosen = (network && w.virtualIPs.find((v) => v.network === network)) || w.virtualIPs[0];
  if (!chosen) return `${w.title}: ${lbswarmLabel}=true but the service has no virtual IP (endpoint mode dnsrr, or host network)`;
  return [`${hostPart(chosen.ip)}:${port}`];
}

/** host:port of every instance; an instance without an address is an error for a container, a warning for one task. */
function instanceHosts(w: Workload, port: number, network: string | undefined, options: BuildOptions, warnings: string[], protocol: 'tcp' | 'udp' = 'tcp'): string[] | string {
  const hosts: string[] = [];
  const errors: string[] = [];
  for (const instance of w.instances) {
    const bound = options.useBindPortIP ? boundAddress(instance, port, protocol) : undefined;
    if (bound) {
      hosts.push(bound);
      continue;
    }
    const address = instanceAddress(w, instance, network);
    if (address.warning) warnings.push(address.warning);
    if (address.ip) hosts.push(`${hostPart(address.ip)}:${port}`);
    else errors.push(address.error!);
  }
  if (hosts.length === 0) return errors[0] ?? `${w.title} has no address`;
  warnings.push(...errors);
  return hosts;
}

/** useBindPortIP: the host address a port is published on, when it names one (not 0.0.0.0). */
function boundAddress(instance: Instance, port: number, protocol: 'tcp' | 'udp'): string | undefined {
  const binding = instance.bindings.find((b) => b.port === port && (b.protocol ?? 'tcp') === protocol && b.hostIp !== '' && b.hostIp !== '0.0.0.0' && b.hostIp !== '::');
  return binding ? `${hostPart(binding.hostIp)}:${binding.hostPort}` : undefined;
}

/** An IP as the host part of a URL: IPv6 in brackets. */
function hostPart(ip: string): string {
  return ip.includes(':') ? `[${ip}]` : ip;
}

function instanceAddress(w: Workload, instance: Instance, network: string | undefined): { ip?: string; warning?: string; error?: string } {
  if (instance.hostAddress) return { ip: instance.hostAddress };
  const who = w.kind === 'service' ? `${w.title} task ${instance.id}` : w.title;
  const selected = network ? instance.networks.find((n) => n.network === network) : undefined;
  if (selected) return { ip: selected.ip };
  const first = instance.networks[0];
  if (!first) return { error: `${who} has no IP address${network ? ` in network "${network}"` : ''}` };
  const warning = network ? `${who} is not on network "${network}"; using its address on "${first.network}"` : undefined;
  return { ip: first.ip, warning };
}

function problem(kind: ElementKind, name: string, message: string): ElementProblem {
  return { kind, name, messages: [message] };
}

type Kind = 'routers' | 'services' | 'middlewares' | 'tcp.routers' | 'tcp.services' | 'tcp.middlewares' | 'udp.routers' | 'udp.services';
const KINDS = ['routers', 'services', 'middlewares', 'tcp.routers', 'tcp.services', 'tcp.middlewares', 'udp.routers', 'udp.services'] as const;

/** Where a default-store conflict is reported: a router name no label can produce (it has dots), shown in the API. */
const TLS_STORE_ELEMENT = 'tls.stores.default';

interface Entry {
  config: RouterConfig | ServiceConfig | MiddlewareConfig | UDPRouterConfig | UDPServiceConfig | Record<string, unknown>;
  owners: string[];
}

/** Merges workloads: identical elements once, replicas' servers together, conflicting definitions disabled. */
class Merger {
  private readonly elements: Record<Kind, Map<string, Entry>> = { routers: new Map(), services: new Map(), middlewares: new Map(), 'tcp.routers': new Map(), 'tcp.services': new Map(), 'tcp.middlewares': new Map(), 'udp.routers': new Map(), 'udp.services': new Map() };
  private readonly problems = new Map<string, ElementProblem>();
  private tlsStore?: { config: Record<string, unknown>; owners: string[] };
  private tlsConflict = false;

  add(c: Contribution): void {
    for (const p of c.problems) this.addProblem(p.kind, p.name, p.messages);
    if (c.tlsStore) this.addTLSStore(c.tlsStore, c.owner);
    for (const kind of KINDS) {
      for (const [name, config] of Object.entries(c[kind])) this.addElement(kind, name, structuredClone(config) as Entry['config'], c.owner);
    }
  }

  private addElement(kind: Kind, name: string, config: Entry['config'], owner: string): void {
    const map = this.elements[kind];
    const existing = map.get(name);
    if (!existing) {
      map.set(name, { config, owners: [owner] });
      return;
    }
    if (isDeepStrictEqual(withoutServers(existing.config), withoutServers(config))) {
      const servers = (config as ServiceConfig | UDPServiceConfig).loadBalancer?.servers as unknown[] | undefined;
      if (servers) ((existing.config as ServiceConfig | UDPServiceConfig).loadBalancer!.servers as unknown[]).push(...servers);
      existing.owners.push(owner);
      return;
    }
    const singular = kind.replace('tcp.', 'TCP ').replace('udp.', 'UDP ').slice(0, -1);
    this.addProblem(kind, name, [`${singular} ${name} is defined differently by ${existing.owners[0]} and ${owner}; give each its own name or the same labels`]);
  }

  /** As Traefik's merge: workloads defining the default store identically share it; differently, none is used. */
  private addTLSStore(config: Record<string, unknown>, owner: string): void {
    if (!this.tlsStore) return void (this.tlsStore = { config, owners: [owner] });
    if (isDeepStrictEqual(this.tlsStore.config, config)) return void this.tlsStore.owners.push(owner);
    this.tlsConflict = true;
    this.addProblem('routers', TLS_STORE_ELEMENT, [`tls store default is defined differently by ${this.tlsStore.owners[0]} and ${owner}; neither is used (give them the same labels, or define it in one place)`]);
  }

  private addProblem(kind: ElementKind, name: string, messages: string[]): void {
    const key = `${kind}/${name}`;
    const existing = this.problems.get(key);
    if (!existing) this.problems.set(key, { kind, name, messages: [...messages] });
    else for (const m of messages) if (!existing.messages.includes(m)) existing.messages.push(m);
  }

  result(): Pick<ProviderConfig, 'config' | 'problems'> {
    const http = this.section('routers', 'services', 'middlewares');
    const tcp = this.section('tcp.routers', 'tcp.services', 'tcp.middlewares');
    const udp = this.section('udp.routers', 'udp.services');
    const problems = [...this.problems.values()].sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
    const tls = this.tlsStore && !this.tlsConflict ? { tls: { stores: { default: this.tlsStore.config } } } : {};
    return { config: { ...(http && { http }), ...(tcp && { tcp }), ...(udp && { udp }), ...tls }, problems };
  }

  /** A section from its kinds (`udp.routers` → routers), problem-free elements only; undefined when empty. */
  private section(...kinds: Kind[]): Record<string, Record<string, unknown>> | undefined {
    const out: Record<string, Record<string, unknown>> = {};
    for (const kind of kinds) {
      const elements: Record<string, unknown> = {};
      for (const name of [...this.elements[kind].keys()].sort()) {
        if (this.problems.has(`${kind}/${name}`)) continue; // a problem anywhere disables the element
        const config = this.elements[kind].get(name)!.config;
        elements[name] = kind.endsWith('services') ? withSortedServers(config as ServiceConfig) : config;
      }
      if (Object.keys(elements).length > 0) out[kind.slice(kind.indexOf('.') + 1)] = elements;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
}

function withoutServers(config: Entry['config']): unknown {
  const lb = (config as ServiceConfig).loadBalancer;
  if (!lb) return config;
  const { servers: _servers, ...rest } = lb;
  return { ...config, loadBalancer: rest };
}

/** Replicas' servers, each URL (TCP and UDP: address) once, in a stable order so equal states give equal snapshots. */
function withSortedServers(config: ServiceConfig): ServiceConfig {
  const lb = config.loadBalancer;
  if (!lb) return config;
  const byUrl = new Map(lb.servers.map((s) => [s.url ?? (s as unknown as { address: string }).address, s]));
  return { ...config, loadBalancer: { ...lb, servers: [...byUrl.keys()].sort().map((url) => byUrl.get(url)!) } };
}
