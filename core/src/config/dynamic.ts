// Dynamic configuration model (Traefik's `http.*` shape): plain data produced by every provider.
import type { TSchema } from '@sinclair/typebox';
import { Type, type Static, Duration, Element, MapOf, Secret, Section, StringList } from './schema.js';
import type { PluginRegistry } from '../plugin/registry.js';
import { UDPSectionSchema, type UDPConfig, type UDPElementKind } from './udp.js';
import { tcpSchema, type TCPElementKind } from './tcp.js';

const RouterTLSSchema = Section(
  Type.Object(
    {
      options: Type.Optional(Type.String({ description: 'Name of the TLS options (tls.options.<name>) for this router.' })),
      certResolver: Type.Optional(Type.String({ description: 'Certificate resolver (certificatesResolvers.<name>) that obtains the certificate for the router\'s domains.' })),
      domains: Type.Optional(
        Type.Array(Type.Object({ main: Type.String(), sans: Type.Optional(StringList()) }, { additionalProperties: false })),
      ),
    },
    { additionalProperties: false },
  ),
);

const RouterSchema = Element(
  Type.Object(
    {
      rule: Type.String({ minLength: 1, description: 'Matching rule, e.g. Host(`a.example`) && PathPrefix(`/api`).' }),
      ruleSyntax: Type.Optional(Type.Union([Type.Literal('v3'), Type.Literal('v2')], { description: "v3 or Traefik v2's syntax (lists of values, {name:regex} templates); default core.defaultRuleSyntax." })),
      entryPoints: Type.Optional(StringList({ description: 'Entrypoints the router listens on; all default entrypoints when empty.' })),
      middlewares: Type.Optional(StringList({ description: 'Middlewares applied in order (name or name@provider).' })),
      service: Type.String({ minLength: 1, description: 'Service name (name or name@provider).' }),
      priority: Type.Optional(Type.Integer({ description: 'Higher wins; default is the length of the rule.' })),
      tls: Type.Optional(RouterTLSSchema),
      observability: Type.Optional(
        Type.Object(
          {
            accessLogs: Type.Optional(Type.Boolean({ description: 'Write access-log lines for this router (default true).' })),
            metrics: Type.Optional(Type.Boolean({ description: 'Record metrics for this router (default true).' })),
            tracing: Type.Optional(Type.Boolean({ description: 'Trace this router\'s requests when the tracing plugin is on (default: its entrypoint\'s observability.tracing, true).' })),
            traceVerbosity: Type.Optional(
              Type.Union([Type.Literal('minimal'), Type.Literal('detailed')], {
                description: 'minimal: entrypoint and upstream spans; detailed: also router, middleware and service spans (default: its entrypoint\'s, minimal).',
              }),
            ),
          },
          { additionalProperties: false },
        ),
      ),
    },
    { additionalProperties: false },
  ),
);

const ServerSchema = Type.Object(
  {
    url: Type.String({ pattern: '^(?:https?|h2c)://', description: 'Upstream base URL: http://, https:// (HTTP/2 by ALPN unless disableHTTP2) or h2c:// (HTTP/2 without TLS).' }),
    weight: Type.Optional(Type.Integer({ minimum: 0, description: 'Relative weight for weighted round-robin (default 1).' })),
    preservePath: Type.Optional(Type.Boolean({ description: 'Put the path of the server URL in front of the request path (default false: that path is ignored, as in Traefik).' })),
  },
  { additionalProperties: false },
);

const StickyCookieSchema = Section(
  Type.Object(
    {
      name: Type.Optional(Type.String({ pattern: '^[!#$%&\'*+\\-.^_`|~0-9A-Za-z]+$', description: 'Cookie name (default: derived from the service name).' })),
      secure: Type.Optional(Type.Boolean({ description: 'Send the cookie over https only.' })),
      httpOnly: Type.Optional(Type.Boolean({ description: 'Hide the cookie from scripts.' })),
      sameSite: Type.Optional(Type.Union([Type.Literal('none'), Type.Literal('lax'), Type.Literal('strict'), Type.Literal('')], { description: 'SameSite attribute.' })),
      maxAge: Type.Optional(Type.Integer({ description: 'Max-Age in seconds (0 = session cookie).' })),
      path: Type.Optional(Type.String({ description: 'Cookie path (default /).' })),
      domain: Type.Optional(Type.String({ description: 'Cookie domain.' })),
    },
    { additionalProperties: false },
  ),
);

/** Traefik 3.7's balancing strategies. */
const StrategySchema = Type.Union([Type.Literal('wrr'), Type.Literal('p2c'), Type.Literal('hrw'), Type.Literal('leasttime')], {
  description:
    'wrr: smooth weighted round-robin (default); p2c: of two servers drawn at random, the one with fewer requests in flight; hrw: highest random weight, each client address keeps its server; leasttime: the lowest average time to the response head × requests in flight, by weight.',
});

const LoadBalancerSchema = Type.Object(
  {
    servers: Type.Array(ServerSchema, { description: 'Upstream servers.' }),
    passHostHeader: Type.Boolean({ default: true, description: 'Forward the client Host header (default true).' }),
    strategy: Type.Optional(StrategySchema),
    serversTransport: Type.Optional(Type.String({ description: 'Name of a serversTransport (name or name@provider).' })),
    sticky: Type.Optional(
      Type.Object(
        {
          cookie: Type.Optional(StickyCookieSchema),
        },
        { additionalProperties: false },
      ),
    ),
    responseForwarding: Type.Optional(
      Type.Object({ flushInterval: Duration({ description: 'Accepted for compatibility; Wharf always streams.' }) }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);

const WeightedSchema = Type.Object(
  {
    services: Type.Array(
      Type.Object(
        { name: Type.String({ minLength: 1 }), weight: Type.Integer({ minimum: 0, default: 1 }) },
        { additionalProperties: false },
      ),
      { minItems: 1 },
    ),
    sticky: Type.Optional(
      Type.Object(
        { cookie: Type.Optional(StickyCookieSchema) },
        { additionalProperties: false, description: 'Pin each client to one child service with a cookie (the child\'s own sticky cookie pins the server inside it).' },
      ),
    ),
    healthCheck: Type.Optional(
      Section(
        Type.Object(
          {},
          {
            additionalProperties: false,
            description: 'Skip child services that have no server in rotation; 503 when none has (Traefik\'s status propagation). Without it every child keeps its share.',
          },
        ),
      ),
    ),
  },
  { additionalProperties: false },
);

const HighestRandomWeightSchema = Type.Object(
  {
    services: Type.Array(
      Type.Object(
        { name: Type.String({ minLength: 1 }), weight: Type.Integer({ minimum: 0, default: 1 }) },
        { additionalProperties: false },
      ),
      { minItems: 1, description: 'Child services; each client address keeps one of them (rendezvous hashing), weights deciding the share of addresses.' },
    ),
    healthCheck: Type.Optional(
      Section(Type.Object({}, { additionalProperties: false, description: 'Skip child services that have no server in rotation; 503 when none has.' })),
    ),
  },
  { additionalProperties: false },
);

/** `healthCheck: {}` on mirroring and failover services: take part in the status their parents see. */
function statusHealthCheck(description: string) {
  return Type.Optional(Section(Type.Object({}, { additionalProperties: false, description })));
}

const MirroringSchema = Type.Object(
  {
    service: Type.String({ minLength: 1, description: 'The service that answers the client (name or name@provider).' }),
    mirrors: Type.Array(
      Type.Object(
        {
          name: Type.String({ minLength: 1, description: 'Service that gets a copy of the requests (name or name@provider).' }),
          percent: Type.Integer({ minimum: 0, maximum: 100, default: 0, description: 'Share of the requests it gets, 0–100.' }),
        },
        { additionalProperties: false },
      ),
      { default: [], description: 'Services that get copies of a share of the requests, sent after the answer; their answers are dropped.' },
    ),
    mirrorBody: Type.Boolean({ default: true, description: 'Mirror the request body too (default true); it is then read whole before the main service gets it.' }),
    maxBodySize: Type.Integer({ minimum: -1, default: -1, description: 'Largest body mirrored, in bytes; a request with a larger one is not mirrored (default -1: no limit).' }),
    healthCheck: statusHealthCheck('Report the main service\'s status to a parent with healthCheck (Traefik\'s status propagation).'),
  },
  { additionalProperties: false },
);

const FailoverSchema = Type.Object(
  {
    service: Type.String({ minLength: 1, description: 'The service used while it has a server in rotation (name or name@provider).' }),
    fallback: Type.String({ minLength: 1, description: 'The service used while the main one has none (name or name@provider).' }),
    healthCheck: statusHealthCheck('Also skip the fallback while it has no server in rotation (503 then), and report the status to a parent with healthCheck.'),
    errors: Type.Optional(
      Type.Object(
        {
          status: StringList({ minItems: 1, description: 'Main answers with these statuses (codes or ranges such as 500-504) go to the fallback instead.' }),
          maxRequestBodyBytes: Type.Integer({ minimum: -1, default: -1, description: 'Largest request body held for replay, in bytes; a larger one is answered 413 (default -1: no limit).' }),
        },
        { additionalProperties: false, description: 'Status-based failover (Traefik 3.7): the request body is held so the fallback can get it too.' },
      ),
    ),
  },
  { additionalProperties: false },
);

const ServiceSchema = Element(
  Type.Object(
    {
      middlewares: Type.Optional(
        StringList({ description: 'Middlewares run for every request this service handles, after the router\'s (Traefik 3.7; name or name@provider).' }),
      ),
      loadBalancer: Type.Optional(LoadBalancerSchema),
      weighted: Type.Optional(WeightedSchema),
      highestRandomWeight: Type.Optional(HighestRandomWeightSchema),
      mirroring: Type.Optional(MirroringSchema),
      failover: Type.Optional(FailoverSchema),
    },
    // additionalProperties stays false: plugin fields are added to loadBalancer by withLoadBalancerFields.
    // Exactly one kind (loadBalancer, weighted, …) is checked when the service is built (SERVICE_KINDS).
    { additionalProperties: false, minProperties: 1 },
  ),
);

export const ServersTransportSchema = Element(
  Type.Object(
    {
      forwardingTimeouts: Type.Object(
        {
          dialTimeout: Duration({ default: '30s', description: 'Time allowed to connect to a server (default 30s).' }),
          responseHeaderTimeout: Duration({ default: 0, description: 'Time allowed for the response headers; 0 = no limit.' }),
          idleConnTimeout: Duration({ default: '90s', description: 'How long an idle keep-alive connection is kept (default 90s).' }),
          readIdleTimeout: Duration({ default: 0, description: 'HTTP/2 upstreams: ping a connection after this long without a frame; 0 (default) = no pings.' }),
          pingTimeout: Duration({ default: '15s', description: 'HTTP/2 upstreams: close the connection when a ping is not answered within this time (default 15s).' }),
        },
        { additionalProperties: false, default: {} },
      ),
      maxIdleConnsPerHost: Type.Integer({ minimum: 0, default: 200, description: 'Pool size per server (default 200).' }),
      insecureSkipVerify: Type.Boolean({ default: false, description: 'Do not verify https upstream certificates.' }),
      disableHTTP2: Type.Boolean({ default: false, description: 'Speak HTTP/1.1 only: https servers are not offered h2 by ALPN, h2c:// servers get HTTP/1.1 (default false).' }),
      serverName: Type.Optional(Type.String({ description: 'SNI sent to https upstreams.' })),
      rootCAs: Type.Optional(
        StringList({
          description: 'CA certificates (PEM file paths or PEM text) that https upstream certificates are verified against; they replace the system CAs, as in Traefik. Read when the configuration is applied.',
        }),
      ),
      certificates: Type.Optional(
        Type.Array(
          Type.Object(
            {
              certFile: Type.String({ minLength: 1, description: 'Client certificate (with its chain): a PEM file path, or the PEM text itself.' }),
              keyFile: Secret({ minLength: 1, description: 'Its private key: a PEM file path, or the PEM text itself. Never logged or shown.' }),
            },
            { additionalProperties: false },
          ),
          { description: 'Client certificates presented to https upstreams that ask for one (mTLS); at most one per key type (RSA, EC, …).' },
        ),
      ),
    },
    { additionalProperties: false },
  ),
);

/** Schema of one `http.middlewares.<name>` entry: exactly one plugin type, or `plugin.<name>`. */
function middlewareSchema(registry: PluginRegistry): TSchema {
  const properties: Record<string, TSchema> = {};
  for (const plugin of registry.middlewares()) properties[plugin.name] = plugin.schema;
  const oneOf = (props: Record<string, TSchema>): TSchema =>
    ({ type: 'object', properties: props, additionalProperties: false, minProperties: 1, maxProperties: 1 }) as unknown as TSchema;
  return Element(oneOf({ ...properties, plugin: oneOf({ ...properties }) }));
}

/** ServiceSchema with plugin fields (healthCheck, …) added to loadBalancer. */
function withLoadBalancerFields(service: TSchema, fields: Readonly<Record<string, TSchema>>): TSchema {
  const props = service.properties as Record<string, TSchema>;
  const lb = props.loadBalancer!;
  const lbProps = { ...(lb.properties as Record<string, TSchema>) };
  for (const [key, schema] of Object.entries(fields)) lbProps[key] = Type.Optional(schema);
  return { ...service, properties: { ...props, loadBalancer: { ...lb, properties: lbProps } } } as TSchema;
}

const cache = new WeakMap<PluginRegistry, { size: number; schema: TSchema }>();

/** The whole dynamic configuration schema for the plugins registered now. */
export function dynamicSchema(registry: PluginRegistry): TSchema {
  const hit = cache.get(registry);
  if (hit && hit.size === registry.all().length) return hit.schema;
  const extraSections: Record<string, TSchema> = {};
  let service: TSchema = ServiceSchema;
  for (const plugin of registry.all()) {
    const { dynamic, loadBalancer } = plugin.config ?? {};
    if (dynamic) extraSections[dynamic.key] = Type.Optional(dynamic.schema);
    if (loadBalancer) service = withLoadBalancerFields(service, loadBalancer);
  }
  const schema = Type.Object(
    {
      ...extraSections,
      udp: Type.Optional(UDPSectionSchema),
      tcp: Type.Optional(tcpSchema(registry)),
      http: Type.Optional(
        Type.Object(
          {
            routers: Type.Optional(MapOf(RouterSchema)),
            services: Type.Optional(MapOf(service)),
            middlewares: Type.Optional(MapOf(middlewareSchema(registry))),
            serversTransports: Type.Optional(MapOf(ServersTransportSchema)),
          },
          { additionalProperties: false },
        ),
      ),
    },
    { additionalProperties: false },
  );
  cache.set(registry, { size: registry.all().length, schema });
  return schema;
}

export type RouterConfig = Static<typeof RouterSchema>;
export type ServiceConfig = Static<typeof ServiceSchema>;
/** The kinds of service; a service is exactly one of them. */
export const SERVICE_KINDS = ['loadBalancer', 'weighted', 'highestRandomWeight', 'mirroring', 'failover'] as const;
export type ServerConfig = Static<typeof ServerSchema>;
export type ServersTransportConfig = Static<typeof ServersTransportSchema>;
/** `{ <type>: options }` — one key; options were validated against the plugin's schema. */
export type MiddlewareConfig = Record<string, unknown>;

export interface HTTPConfig {
  routers?: Record<string, RouterConfig>;
  services?: Record<string, ServiceConfig>;
  middlewares?: Record<string, MiddlewareConfig>;
  serversTransports?: Record<string, ServersTransportConfig>;
}

export interface DynamicConfig {
  http?: HTTPConfig;
  udp?: UDPConfig;
  /** Sections owned by plugins (`tls`). */
  [section: string]: unknown;
}

/** Turns the decoder's disabled elements (`http.routers.api`) into provider problems. */
export function problemsFromDisabled(disabled: Map<string, { source: string; message: string }[]>, prefix = ''): ElementProblem[] {
  const problems: ElementProblem[] = [];
  for (const [path, issues] of disabled) {
    const [section, kind, ...rest] = path.split('.');
    problems.push({
      kind: (section === 'http' ? kind : `${section}.${kind}`) as ElementKind,
      name: rest.join('.'),
      messages: issues.map((i) => `${prefix}${i.source}: ${i.message}`),
    });
  }
  return problems;
}

/** The kinds of element a dynamic configuration holds, as in `http.<kind>.<name>` (`tcp.routers` for `tcp.routers.<name>`). */
export type ElementKind = 'routers' | 'services' | 'middlewares' | 'serversTransports' | TCPElementKind | UDPElementKind;

/** An element a provider could not decode: it is shown as disabled with these messages. */
export interface ElementProblem {
  kind: ElementKind;
  /** Unqualified name inside the provider. */
  name: string;
  messages: string[];
}

/** What a provider sends: its whole current configuration and the elements it had to leave out. */
export interface ProviderConfig {
  provider: string;
  config: DynamicConfig;
  problems: ElementProblem[];
}
