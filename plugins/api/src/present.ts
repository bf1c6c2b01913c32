// Turns the gateway's runtime information into Traefik's API shapes, hiding secrets and printing durations.
import {
  DURATION,
  SECRET,
  formatDuration,
  qualify,
  type CertificateResolverInfo,
  type MiddlewareInfo,
  type RouterInfo,
  type RuntimeInfo,
  type ServiceInfo,
  type StaticConfig,
  type TCPMiddlewareInfo,
  type TCPRouterInfo,
  type TCPServiceInfo,
  type TSchema,
  type UDPRouterInfo,
  type UDPServiceInfo,
} from '@wharf/core';

/** What a secret field shows instead of its value (Traefik's redactor writes the same). */
export const REDACTED = 'xxxx';

/** Schemas of the elements the API shows, taken from the gateway's static and dynamic schemas. */
export interface ElementSchemas {
  entryPoint?: TSchema;
  router?: TSchema;
  service?: TSchema;
  middleware?: TSchema;
  tcpRouter?: TSchema;
  tcpService?: TSchema;
  tcpMiddleware?: TSchema;
  udpRouter?: TSchema;
  udpService?: TSchema;
}

export function elementSchemas(schemas: { static: TSchema; dynamic: TSchema }): ElementSchemas {
  const element = (section: string, kind: string) => child(child(child(schemas.dynamic, section), kind), '*');
  return {
    entryPoint: child(child(schemas.static, 'entryPoints'), '*'),
    router: element('http', 'routers'),
    service: element('http', 'services'),
    middleware: element('http', 'middlewares'),
    tcpRouter: element('tcp', 'routers'),
    tcpService: element('tcp', 'services'),
    tcpMiddleware: element('tcp', 'middlewares'),
    udpRouter: element('udp', 'routers'),
    udpService: element('udp', 'services'),
  };
}

/**
 * Copies a configuration value for display, walking beside its schema: fields marked secret become
 * REDACTED, durations (stored in milliseconds) become `10s`. Values without a schema are copied as they are.
 */
export function present(schema: TSchema | undefined, value: unknown): unknown {
  if (value === undefined || value === null) return value;
  const s = schema ? variantFor(schema, value) : undefined;
  if (s?.[SECRET]) return REDACTED;
  if (s?.[DURATION] && typeof value === 'number') return formatDuration(value);
  if (Array.isArray(value)) return value.map((item) => present(s?.items as TSchema | undefined, item));
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) out[key] = present(s ? child(s, key) : undefined, v);
    return out;
  }
  return value;
}

/** The schema of a property (`*`: the value schema of a map), or undefined. */
function child(schema: TSchema | undefined, key: string): TSchema | undefined {
  if (!schema) return undefined;
  const properties = schema.properties as Record<string, TSchema> | undefined;
  if (key !== '*' && properties && Object.hasOwn(properties, key)) return properties[key];
  const additional = schema.additionalProperties;
  if (additional && typeof additional === 'object') return additional as TSchema;
  const patterns = schema.patternProperties as Record<string, TSchema> | undefined;
  return patterns ? Object.values(patterns)[0] : undefined;
}

/** In a union, the variant matching the value's JSON type; a secret variant wins so nothing leaks. */
function variantFor(schema: TSchema, value: unknown): TSchema {
  const variants = (schema.anyOf ?? schema.oneOf) as TSchema[] | undefined;
  if (!variants) return schema;
  const type = Array.isArray(value) ? 'array' : typeof value === 'object' ? 'object' : typeof value;
  const matching = variants.filter((v) => jsonType(v) === undefined || jsonType(v) === type);
  const chosen = matching.find((v) => v[SECRET]) ?? matching[0];
  return chosen ? variantFor(chosen, value) : schema;
}

function jsonType(schema: TSchema): string | undefined {
  if (schema[DURATION]) return 'number';
  const t = schema.type as string | undefined;
  return t === 'integer' ? 'number' : t;
}

/** Traefik's `/api/entrypoints` item: the static configuration of the entrypoint and its name. */
export function entryPointRepresentation(name: string, config: StaticConfig['entryPoints'][string], schemas: ElementSchemas): Record<string, unknown> {
  return { ...(present(schemas.entryPoint, config) as Record<string, unknown>), name };
}

/** Traefik's router representation: configuration fields, then status, using, name, provider, error. */
export function routerRepresentation(info: RouterInfo, schemas: ElementSchemas): Record<string, unknown> {
  // Only the build's routerPriority(): a configured 0 shown raw is not the rule length the table routes by.
  return routerFields(info, present(schemas.router, info.config ?? {}), { priority: info.priority });
}

/** HTTP and TCP routers: the resolved fields and `extra`, the rest of the configuration, then status, using, name, provider, error. */
function routerFields(info: RouterInfo | TCPRouterInfo, presented: unknown, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {
    entryPoints: info.config?.entryPoints?.length ? info.config.entryPoints : info.entryPoints.length > 0 ? info.entryPoints : undefined,
    middlewares: info.middlewares.length > 0 ? info.middlewares : info.config?.middlewares?.map((m) => qualify(m, info.provider)),
    service: info.service ?? (info.config?.service === undefined ? undefined : qualify(info.config.service, info.provider)),
    rule: info.config?.rule,
    ...extra,
  };
  for (const [key, value] of Object.entries((presented ?? {}) as Record<string, unknown>)) if (!(key in out)) out[key] = value;
  out.status = info.status;
  out.using = info.entryPoints.length > 0 ? info.entryPoints : undefined;
  out.name = info.name;
  out.provider = info.provider;
  out.error = errorsOf(info);
  return dropUndefined(out);
}

/** Traefik's service representation: configuration, status, usedBy, serverStatus, name, provider, type. */
export function serviceRepresentation(info: ServiceInfo, schemas: ElementSchemas): Record<string, unknown> {
  return elementRepresentation(info, present(schemas.service, info.config ?? {}), {
    serverStatus: info.serverStatus && Object.keys(info.serverStatus).length > 0 ? { ...info.serverStatus } : undefined,
    type: info.type && info.type !== 'internal' ? info.type.toLowerCase() : undefined,
  });
}

/** Traefik's middleware representation: `{ <type>: options }`, status, usedBy, name, provider, type. */
export function middlewareRepresentation(info: MiddlewareInfo, schemas: ElementSchemas): Record<string, unknown> {
  return elementRepresentation(info, present(schemas.middleware, info.config ?? {}), { type: (info.type ?? Object.keys(info.config ?? {})[0])?.toLowerCase() });
}

/** Traefik's TCP router representation: configuration, priorityStr, status, using, name, provider, error. */
export function tcpRouterRepresentation(info: TCPRouterInfo, schemas: ElementSchemas): Record<string, unknown> {
  // Traefik fills the priority from the rule when none is configured, and prints it again as a string.
  return routerFields(info, present(schemas.tcpRouter, info.config ?? {}), { priority: info.priority, priorityStr: String(info.priority ?? 0) });
}

/** Traefik's TCP service representation: configuration, status, usedBy, serverStatus, name, provider, type. */
export function tcpServiceRepresentation(info: TCPServiceInfo, schemas: ElementSchemas): Record<string, unknown> {
  return elementRepresentation(info, present(schemas.tcpService, info.config ?? {}), {
    serverStatus: info.serverStatus && Object.keys(info.serverStatus).length > 0 ? { ...info.serverStatus } : undefined,
    type: (info.type ?? Object.keys(info.config ?? {})[0])?.toLowerCase(),
  });
}

/** Traefik's TCP middleware representation: `{ <type>: options }`, status, usedBy, name, provider, type. */
export function tcpMiddlewareRepresentation(info: TCPMiddlewareInfo, schemas: ElementSchemas): Record<string, unknown> {
  return elementRepresentation(info, present(schemas.tcpMiddleware, info.config ?? {}), {
    type: (info.type ?? Object.keys(info.config ?? {})[0])?.toLowerCase(),
  });
}

/** Traefik's UDP router representation: entryPoints, service, status, using, name, provider, error. */
export function udpRouterRepresentation(info: UDPRouterInfo, schemas: ElementSchemas): Record<string, unknown> {
  const config = (present(schemas.udpRouter, info.config ?? {}) as Record<string, unknown>) ?? {};
  return dropUndefined({
    ...config,
    entryPoints: info.config?.entryPoints?.length ? info.config.entryPoints : info.entryPoints.length > 0 ? info.entryPoints : undefined,
    service: info.service ?? (info.config?.service === undefined ? undefined : qualify(info.config.service, info.provider)),
    status: info.status,
    using: info.entryPoints.length > 0 ? info.entryPoints : undefined,
    name: info.name,
    provider: info.provider,
    error: errorsOf(info),
  });
}

/** Traefik's UDP service representation: configuration, status, usedBy, name, provider, type. */
export function udpServiceRepresentation(info: UDPServiceInfo, schemas: ElementSchemas): Record<string, unknown> {
  return elementRepresentation(info, present(schemas.udpService, info.config ?? {}), {
    type: (info.type ?? Object.keys(info.config ?? {})[0])?.toLowerCase(),
  });
}

/** Configuration, then status, error, usedBy, the extra fields, name and provider (undefined fields dropped). */
function elementRepresentation(
  info: { status: string; errors?: string[]; usedBy: string[]; name: string; provider: string },
  config: unknown,
  extra: Record<string, unknown>,
): Record<string, unknown> {
  return dropUndefined({
    ...((config ?? {}) as Record<string, unknown>),
    status: info.status,
    error: errorsOf(info),
    usedBy: info.usedBy.length > 0 ? info.usedBy : undefined,
    ...extra,
    name: info.name,
    provider: info.provider,
  });
}

/**
 * `/api/certificateresolvers` item (Wharf's; Traefik has no such endpoint): the resolver, its CA and challenges,
 * the certificates it holds with their expiry (RFC 3339), and status/error as Traefik shows them for routers.
 */
export function certificateResolverRepresentation(info: CertificateResolverInfo): Record<string, unknown> {
  return dropUndefined({
    name: info.name,
    caServer: info.caServer,
    challenges: info.challenges,
    certificates: info.certificates.map((c) => ({ domains: { main: c.domains.main, sans: c.domains.sans }, notAfter: new Date(c.notAfter * 1000).toISOString() })),
    status: info.errors.length > 0 ? 'warning' : 'enabled',
    error: info.errors.length > 0 ? [...new Set(info.errors)] : undefined,
  });
}

export interface SectionCounts {
  total: number;
  warnings: number;
  errors: number;
}

function counts(elements: Record<string, { status: string }>): SectionCounts {
  const all = Object.values(elements);
  return {
    total: all.length,
    warnings: all.filter((e) => e.status === 'warning').length,
    errors: all.filter((e) => e.status === 'disabled').length,
  };
}

/** Traefik's `/api/overview`: counts per kind (errors = disabled elements), features and providers. */
export function overview(info: RuntimeInfo, staticConfig: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const providers = new Set<string>();
  const configured = (staticConfig.providers ?? {}) as Record<string, unknown>;
  for (const [key, value] of Object.entries(configured)) if (value && typeof value === 'object') providers.add(key);
  const sections = [info.routers, info.services, info.middlewares, info.tcp?.routers, info.tcp?.services, info.tcp?.middlewares, info.udpRouters, info.udpServices];
  for (const elements of sections) {
    for (const element of Object.values(elements ?? {})) if (element.provider !== 'internal') providers.add(element.provider);
  }
  const metrics = staticConfig.metrics as Record<string, unknown> | undefined;
  const tracing = staticConfig.tracing as Record<string, unknown> | undefined;
  return {
    http: { routers: counts(info.routers), services: counts(info.services), middlewares: counts(info.middlewares) },
    tcp: { routers: counts(info.tcp?.routers ?? {}), services: counts(info.tcp?.services ?? {}), middlewares: counts(info.tcp?.middlewares ?? {}) },
    udp: { routers: counts(info.udpRouters ?? {}), services: counts(info.udpServices ?? {}) },
    features: {
      tracing: backendName(tracing),
      metrics: backendName(metrics),
      accessLog: staticConfig.accessLog !== undefined,
    },
    providers: [...providers].map((p) => p.charAt(0).toUpperCase() + p.slice(1)).sort(),
  };
}

// Traefik names a feature by the Go field of its first configured backend (a section given as an object).
const GO_FIELD_NAMES: Record<string, string> = { otlp: 'OTLP', prometheus: 'Prometheus', datadog: 'Datadog', statsD: 'StatsD', influxDB2: 'InfluxDB2' };

function backendName(section: Record<string, unknown> | undefined): string {
  const key = Object.keys(section ?? {}).find((k) => section![k] !== null && typeof section![k] === 'object' && !Array.isArray(section![k]));
  return key === undefined ? '' : (GO_FIELD_NAMES[key] ?? key.charAt(0).toUpperCase() + key.slice(1));
}

/**
 * Traefik's `/api/rawdata`: every element by name, in the same shapes as the lists (without name, provider and
 * the TCP routers' priorityStr, which rawdata lacks); the TCP and UDP keys are left out when empty, as Traefik does.
 */
export function rawData(info: RuntimeInfo, schemas: ElementSchemas): Record<string, unknown> {
  const map = <T>(elements: Record<string, T> | undefined, fn: (e: T) => Record<string, unknown>) => {
    const names = Object.keys(elements ?? {}).sort();
    if (names.length === 0) return undefined;
    return Object.fromEntries(names.map((name) => {
      const { name: _name, provider: _provider, priorityStr: _priorityStr, ...rest } = fn(elements![name]!);
      return [name, rest];
    }));
  };
  return dropUndefined({
    routers: map(info.routers, (r) => routerRepresentation(r, schemas)) ?? {},
    middlewares: map(info.middlewares, (m) => middlewareRepresentation(m, schemas)) ?? {},
    services: map(info.services, (s) => serviceRepresentation(s, schemas)) ?? {},
    tcpRouters: map(info.tcp?.routers, (r) => tcpRouterRepresentation(r, schemas)),
    tcpMiddlewares: map(info.tcp?.middlewares, (m) => tcpMiddlewareRepresentation(m, schemas)),
    tcpServices: map(info.tcp?.services, (s) => tcpServiceRepresentation(s, schemas)),
    udpRouters: map(info.udpRouters, (r) => udpRouterRepresentation(r, schemas)),
    udpServices: map(info.udpServices, (s) => udpServiceRepresentation(s, schemas)),
  });
}

/** The element's messages, each once (a router attached to two entrypoints records a middleware problem twice). */
function errorsOf(info: { errors?: string[] }): string[] | undefined {
  return info.errors?.length ? [...new Set(info.errors)] : undefined;
}

function dropUndefined(o: Record<string, unknown>): Record<string, unknown> {
  for (const key of Object.keys(o)) if (o[key] === undefined) delete o[key];
  return o;
}
