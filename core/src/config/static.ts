// Static configuration (how Wharf is started): Traefik's tree from a YAML/JSON file, WHARF_* environment
// variables and --flags, merged in that order of precedence and decoded by the generic decoder.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parseDocument } from 'yaml';
import type { TObject, TSchema } from '@sinclair/typebox';
import { Type, type Static, Duration, MapOf, Section, StringList } from './schema.js';
import { decode, flatToTree, formatIssues, splitKey, NODE_VALUE, type DecodeIssue, type TreeObject } from './decode.js';
import { WharfError } from '../errors.js';
import { PluginRegistry } from '../plugin/registry.js';
import { EntryPointUDPSchema } from './udp.js';
import { ServersTransportSchema } from './dynamic.js';

const EntryPointSchema = Type.Object(
  {
    address: Type.String({ minLength: 1, description: 'Listen address: `:80`, `127.0.0.1:8080`, `[::1]:8080`; `/udp` makes a UDP entrypoint (`:53/udp`), `/tcp` is the default.' }),
    asDefault: Type.Optional(Type.Boolean({ description: 'Routers without entryPoints attach here (default: every entrypoint when none is marked).' })),
    reusePort: Type.Optional(
      Type.Boolean({
        description:
          'Accepted for compatibility: Node 20 has no SO_REUSEPORT option, so another process cannot share the port (a warning says so at start-up). Wharf\'s own workers share the listener (--workers).',
      }),
    ),
    transport: Type.Object(
      {
        respondingTimeouts: Type.Object(
          {
            readTimeout: Duration({ default: '60s', description: 'Time allowed to read a whole request, headers and body (default 60s; 0 = none).' }),
            writeTimeout: Duration({
              default: 0,
              description:
                'Time allowed for each response, from the end of its request headers to its last byte (default 0 = none, as in Traefik v3). On expiry the HTTP/1.1 connection is closed, an h2 stream reset. Also cuts SSE and other long responses; WebSocket tunnels are exempt.',
            }),
            idleTimeout: Duration({ default: '180s', description: 'How long an idle keep-alive connection stays open (default 180s).' }),
          },
          { additionalProperties: false, default: {} },
        ),
        lifeCycle: Type.Object(
          {
            requestAcceptGraceTimeout: Duration({ default: 0, description: 'Keep accepting requests this long after SIGTERM (default 0).' }),
            graceTimeOut: Duration({ default: '10s', description: 'Time for in-flight requests to finish at shutdown (default 10s).' }),
          },
          { additionalProperties: false, default: {} },
        ),
        keepAliveMaxRequests: Type.Integer({ minimum: 0, default: 0, description: 'Close a connection after this many requests (0 = no limit).' }),
        keepAliveMaxTime: Duration({ default: 0, description: 'Close a keep-alive connection older than this after its current response (0 = no limit).' }),
        maxConnections: Type.Integer({ minimum: 0, default: 0, description: 'Wharf: refuse connections beyond this many open ones (0 = no limit).' }),
      },
      { additionalProperties: false, default: {} },
    ),
    proxyProtocol: Type.Optional(
      Type.Object(
        {
          trustedIPs: StringList({ default: [], description: 'Peers (IPs or CIDRs) whose PROXY protocol header (v1 or v2) gives the client address; others have theirs read and dropped.' }),
          insecure: Type.Boolean({ default: false, description: 'Use the PROXY header of every peer (only behind a load balancer that always sends one).' }),
        },
        { additionalProperties: false, description: 'Read the PROXY protocol header a TCP load balancer sends before the connection (Traefik: proxyProtocol).' },
      ),
    ),
    udp: EntryPointUDPSchema,
    http2: Type.Object(
      {
        maxConcurrentStreams: Type.Integer({ minimum: 1, default: 250, description: 'Streams one HTTP/2 connection may have open at once (default 250, as Traefik).' }),
      },
      { additionalProperties: false, default: {} },
    ),
    forwardedHeaders: Type.Object(
      {
        trustedIPs: StringList({ default: [], description: 'Peers (IPs or CIDRs) whose X-Forwarded-* headers are kept.' }),
        insecure: Type.Boolean({ default: false, description: 'Trust X-Forwarded-* from every peer (unsafe on a public entrypoint).' }),
        connection: Type.Optional(
          StringList({
            description: 'Headers a client names in Connection that the middlewares still see; the others are removed before any middleware, as in Traefik. The upstream gets none of them.',
          }),
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    http: Type.Object(
      {
        middlewares: Type.Optional(StringList({ description: 'Middlewares prepended to every router on this entrypoint.' })),
        maxHeaderBytes: Type.Integer({ minimum: 1024, default: 32768, description: 'Largest request head accepted, in bytes (default 32 KiB); larger → 431.' }),
        sanitizePath: Type.Boolean({ default: true, description: 'Resolve ./.. segments and merge slashes before routing (default true).' }),
        encodedCharacters: Type.Object(
          Object.fromEntries(
            ['Slash', 'BackSlash', 'NullCharacter', 'Semicolon', 'Percent', 'QuestionMark', 'Hash'].map((c) => [
              `allowEncoded${c}`,
              Type.Boolean({ default: true, description: `Accept an encoded ${c} in the request path (default true; false → 400).` }),
            ]),
          ) as Record<string, ReturnType<typeof Type.Boolean>>,
          { additionalProperties: false, default: {} },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);

const PluginModuleSchema = Type.Object(
  { module: Type.String({ minLength: 1, description: 'Package name or path (relative to the working directory) of the plugin module.' }) },
  { additionalProperties: false },
);

const LocalPluginSchema = Type.Object(
  {
    moduleName: Type.String({ minLength: 1, description: 'Traefik form of plugins.<name>.module.' }),
    settings: Type.Optional(Type.Object({}, { additionalProperties: true })),
  },
  { additionalProperties: false },
);

/** The core's static schema; plugins and providers add their own sections (see staticSchema). */
function coreStaticProperties(entryPoint: TSchema = EntryPointSchema, providerSections: Record<string, TSchema> = {}) {
  return {
    entryPoints: Type.Optional(MapOf(entryPoint, { description: 'Named listen addresses (default: http on :80).' })),
    providers: Type.Object(
      {
        providersThrottleDuration: Duration({ default: '2s', description: 'Wait at least this long between two reloads from one provider (default 2s).' }),
        ...providerSections,
      },
      { additionalProperties: false, default: {} },
    ),
    log: Type.Object(
      {
        level: Type.Union(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL', 'PANIC'].map((l) => Type.Literal(l)), {
          default: 'INFO',
          description: 'TRACE, DEBUG, INFO, WARN, ERROR or FATAL (default INFO).',
        }),
        format: Type.Union([Type.Literal('common'), Type.Literal('json')], { default: 'common', description: 'common or json (default common).' }),
        filePath: Type.Optional(Type.String({ description: 'Write the log to this file instead of stdout.' })),
        noColor: Type.Optional(Type.Boolean({ description: 'Accepted for compatibility; Wharf never colours.' })),
      },
      { additionalProperties: false, default: {} },
    ),
    plugins: Type.Optional(MapOf(PluginModuleSchema, { description: 'Wharf: custom plugins to load, `--plugins.<name>.module=./my-plugin`.' })),
    experimental: Type.Optional(
      Type.Object({ localPlugins: Type.Optional(MapOf(LocalPluginSchema)) }, { additionalProperties: false }),
    ),
    serversTransport: Type.Optional(
      Type.Object(
        {
          ...pick(ServersTransportSchema, ['insecureSkipVerify', 'rootCAs', 'maxIdleConnsPerHost', 'forwardingTimeouts']),
          spiffe: Type.Optional(
            Type.Object(
              { ids: Type.Optional(StringList()), trustDomain: Type.Optional(Type.String()) },
              { additionalProperties: false, description: 'Not supported: Wharf has no SPIFFE workload API client; starting with it set is an error.' },
            ),
          ),
        },
        { additionalProperties: false, description: 'The default serversTransport: used by every load balancer that names none.' },
      ),
    ),
    core: Type.Object(
      {
        defaultRuleSyntax: Type.Union([Type.Literal('v3'), Type.Literal('v2')], {
          default: 'v3',
          description: "Rule syntax of routers without their own ruleSyntax: v3 (default) or Traefik v2's (lists of values, {name:regex} templates).",
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    workers: Type.Union([Type.Integer({ minimum: 1 }), Type.Literal('auto')], {
      default: 1,
      description: 'Wharf: worker processes sharing the listeners (number or auto; default 1).',
    }),
    global: Type.Optional(
      Type.Object(
        { checkNewVersion: Type.Optional(Type.Boolean()), sendAnonymousUsage: Type.Optional(Type.Boolean()) },
        { additionalProperties: false, description: 'Accepted for compatibility; Wharf never phones home.' },
      ),
    ),
  };
}

/** Some properties of an object schema, as they are (defaults and descriptions included). */
function pick(schema: TSchema, names: readonly string[]): Record<string, TSchema> {
  const properties = schema.properties as Record<string, TSchema>;
  return Object.fromEntries(names.map((name) => [name, properties[name]!]));
}

type CoreStatic = Static<TObject<ReturnType<typeof coreStaticProperties>>>;
export type EntryPointConfig = Static<typeof EntryPointSchema> & Record<string, unknown>;
/** The decoded static configuration: the core's fields plus one section per plugin. */
export type StaticConfig = Omit<CoreStatic, 'entryPoints' | 'providers'> & {
  entryPoints: Record<string, EntryPointConfig>;
  providers: CoreStatic['providers'] & Record<string, unknown>;
  [section: string]: unknown;
};

/** The static schema with every registered plugin's sections merged in. */
export function staticSchema(registry: PluginRegistry = new PluginRegistry()): TSchema {
  let entryPoint: TSchema = EntryPointSchema;
  const extra: Record<string, TSchema> = {};
  // Sections whose key is a dotted path into a core section (`log.otlp`), placed once the core's are built.
  const nested: [string[], TSchema][] = [];
  for (const plugin of registry.all()) {
    const section = plugin.config?.static;
    const key = section?.key ?? plugin.name;
    if (section && key.includes('.')) nested.push([key.split('.'), Section(section.schema)]);
    else if (section) extra[key] = Type.Optional(Section(section.schema));
    for (const [path, schema] of Object.entries(plugin.config?.entryPoint ?? {})) entryPoint = withField(entryPoint, path.split('.'), schema);
  }
  const providers: Record<string, TSchema> = {};
  for (const provider of registry.providerDefinitions()) {
    const schema = provider.description ? { ...provider.schema, description: provider.description } : provider.schema;
    providers[provider.name] = Type.Optional(Section(schema));
  }
  const properties: Record<string, TSchema> = { ...coreStaticProperties(entryPoint, providers), ...extra };
  for (const [[head, ...rest], schema] of nested) properties[head!] = withField(properties[head!] ?? Type.Object({}, { additionalProperties: false, default: {} }), rest, schema);
  return Type.Object(properties, { additionalProperties: false });
}

function withField(schema: TSchema, path: string[], field: TSchema): TSchema {
  const [head, ...rest] = path;
  const properties = { ...((schema.properties ?? {}) as Record<string, TSchema>) };
  if (rest.length === 0) properties[head!] = Type.Optional(field);
  else properties[head!] = withField(properties[head!] ?? Type.Object({}, { additionalProperties: false, default: {} }), rest, field);
  return { ...schema, properties } as TSchema;
}

/** Raw static configuration before decoding: the merged tree and where each key came from. */
export interface StaticSources {
  tree: TreeObject;
  /** lower-cased dotted path → how the user wrote it (`--entrypoints.web.address`, `WHARF_LOG_LEVEL`). */
  origins: Map<string, string>;
  configFile?: string;
  help: boolean;
  version: boolean;
}

/** Reads --flags, WHARF_* variables and the --configFile into one tree (file < env < flags). */
export function readStaticSources(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): StaticSources {
  const origins = new Map<string, string>();
  const flags = parseFlags(argv);
  const envEntries = envToEntries(env);
  let help = false;
  let version = false;
  let configFile: string | undefined;
  const flagEntries: [string, string][] = [];
  for (const [key, value] of flags) {
    const lower = key.toLowerCase();
    if (lower === 'help' || lower === 'h') help = true;
    else if (lower === 'version') version = true;
    else if (lower === 'configfile') configFile = value;
    else flagEntries.push([key, value]);
  }
  configFile ??= envEntries.find(([k]) => k === 'configfile')?.[1];
  const fileTree = configFile ? readConfigFile(configFile) : {};
  for (const [key, value] of envEntries) origins.set(key, value === undefined ? key : `WHARF_${key.replace(/\./g, '_').toUpperCase()}`);
  for (const [key] of flagEntries) origins.set(splitKey(key).join('.').toLowerCase(), `--${key}`);
  const tree = mergeTrees(mergeTrees(fileTree, flatToTree(envEntries.filter(([k]) => k !== 'configfile'))), flatToTree(flagEntries));
  return { tree, origins, configFile, help, version };
}

/** Decodes the merged sources; throws one WharfError listing every problem. */
export function decodeStatic(sources: StaticSources, registry?: PluginRegistry): StaticConfig {
  const describe = (written: string[]) => describeStaticKey(sources, written);
  const { value, issues } = decode<StaticConfig>(staticSchema(registry), sources.tree, { describe });
  if (issues.length > 0) throw staticError(issues);
  if (value.serversTransport?.spiffe !== undefined) {
    throw new WharfError(
      'WHARF_ERR_STATIC_CONFIG',
      `${describe(['serversTransport', 'spiffe'])}: SPIFFE is not supported by Wharf (no workload API client); remove it, and use rootCAs and serversTransports' certificates for mutual TLS`,
    );
  }
  value.entryPoints ??= {};
  if (Object.keys(value.entryPoints).length === 0) addEntryPoint(value, 'http', ':80', registry); // Traefik's default
  if (!value.entryPoints.traefik && (referencesEntryPoint(value, 'traefik') || pluginUsesEntryPoint(value, 'traefik', registry))) {
    addEntryPoint(value, 'traefik', ':8080', registry);
  }
  return value;
}

/** Adds an entrypoint with its defaults, as Traefik does for `http` (:80) and `traefik` (:8080). */
function addEntryPoint(config: StaticConfig, name: string, address: string, registry?: PluginRegistry): void {
  const decoded = decode<StaticConfig>(staticSchema(registry), { entryPoints: { [name]: { address } } }).value;
  config.entryPoints = { ...config.entryPoints, [name]: decoded.entryPoints[name]! };
}

/** Whether a section (ping, api, metrics) names the entrypoint in its `entryPoint` field. */
function referencesEntryPoint(config: StaticConfig, name: string): boolean {
  const mentions = (section: unknown, depth: number): boolean => {
    if (!section || typeof section !== 'object' || depth > 2) return false;
    if ((section as { entryPoint?: unknown }).entryPoint === name) return true;
    return Object.values(section).some((child) => mentions(child, depth + 1)); // metrics.prometheus.entryPoint
  };
  return Object.entries(config).some(([key, section]) => key !== 'entryPoints' && mentions(section, 0));
}

/** Whether a plugin's static section serves on the entrypoint (config.static.entryPoints: api.insecure → traefik). */
function pluginUsesEntryPoint(config: StaticConfig, name: string, registry?: PluginRegistry): boolean {
  return (registry?.all() ?? []).some((plugin) => {
    const declared = plugin.config?.static;
    const section = declared?.entryPoints ? config[declared.key ?? plugin.name] : undefined;
    return section !== undefined && declared!.entryPoints!(section as never).includes(name);
  });
}

function describeStaticKey(sources: StaticSources, written: string[]): string {
  const dotted = written.join('.').replace(/\.\[/g, '[');
  const origin = sources.origins.get(written.map((w) => w.replace(/^\[(\d+)\]$/, '$1')).join('.').toLowerCase());
  if (origin) return origin;
  return sources.configFile ? `${sources.configFile}: ${dotted}` : dotted;
}

function staticError(issues: DecodeIssue[]): WharfError {
  return new WharfError('WHARF_ERR_STATIC_CONFIG', `invalid static configuration:\n${formatIssues(issues).replace(/^/gm, '  ')}`);
}

/** `--a.b=v`, `--a.b v`, bare `--a.b` (true). Values may be quoted by the shell; nothing else is special. */
export function parseFlags(argv: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-')) {
      throw new WharfError('WHARF_ERR_STATIC_CONFIG', `unexpected argument '${arg}': flags look like --entrypoints.web.address=:80`);
    }
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    if (eq >= 0) out.push([body.slice(0, eq), body.slice(eq + 1)]);
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('-')) out.push([body, argv[++i]!]);
    else out.push([body, 'true']);
  }
  return out;
}

/** WHARF_ENTRYPOINTS_WEB_ADDRESS=:80 → ['entrypoints.web.address', ':80']. */
function envToEntries(env: NodeJS.ProcessEnv): [string, string][] {
  const out: [string, string][] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('WHARF_') || value === undefined) continue;
    out.push([name.slice('WHARF_'.length).toLowerCase().split('_').filter(Boolean).join('.'), value]);
  }
  return out;
}

/** Parses a YAML or JSON file, reporting syntax errors with line and column. */
function readConfigFile(path: string): TreeObject {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new WharfError('WHARF_ERR_STATIC_CONFIG', `cannot read configuration file ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseConfigText(text, path) as TreeObject;
}

/** YAML (a superset of JSON) → plain data; errors carry `file:line:column`. */
export function parseConfigText(text: string, path: string): Record<string, unknown> {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const where = first.linePos?.[0] ? `${path}:${first.linePos[0].line}:${first.linePos[0].col}` : path;
    const kind = extname(path) === '.json' ? 'JSON' : 'YAML';
    throw new WharfError('WHARF_ERR_STATIC_CONFIG', `${kind} syntax error at ${where}: ${first.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`);
  }
  const value = doc.toJS() as unknown;
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new WharfError('WHARF_ERR_STATIC_CONFIG', `${path}: expected a mapping at the top level`);
  }
  return value as Record<string, unknown>;
}

/** Overlays `over` on `base`, matching keys case-insensitively; scalars in `over` win. */
export function mergeTrees(base: Record<string, unknown>, over: Record<string, unknown>): TreeObject {
  const out: Record<string, unknown> = { ...base };
  const overValue = (over as TreeObject)[NODE_VALUE];
  if (overValue !== undefined) (out as TreeObject)[NODE_VALUE] = overValue;
  for (const [key, value] of Object.entries(over)) {
    const existing = Object.keys(out).find((k) => k.toLowerCase() === key.toLowerCase()) ?? key;
    const current = out[existing];
    out[existing] = isTree(current) && isTree(value) ? mergeTrees(current, value) : value;
  }
  return out as TreeObject;
}

function isTree(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
