// Traefik's access-log fields for one finished request, limited to those fields.defaultMode/names keep.
import { downstreamHeaders, loggedTrace, type CapturePlan, type Exchange } from './exchange.js';
import { localTime, utcTime, type Fields } from './format.js';
import { HeaderPolicy } from './headers.js';
import { appendJsonFields, endJsonLine, jsonLine } from './json-line.js';
import { compileQueryPolicy } from './query.js';
import type { AccessLogConfig } from './schema.js';
import { clientHost, clientUsername, host, originDuration, peer, requestHostPort, serviceAddr, tls, tlsVersion } from './values.js';

/** Every field Wharf fills, in output order (Traefik's names). */
const CORE_FIELDS = [
  'StartUTC', 'StartLocal', 'Duration', 'entryPointName', 'RouterName', 'ServiceName', 'ServiceURL', 'ServiceAddr',
  'ClientAddr', 'ClientHost', 'ClientPort', 'ClientUsername', 'RequestAddr', 'RequestHost', 'RequestPort', 'RequestMethod',
  'RequestPath', 'RequestProtocol', 'RequestScheme', 'RequestContentSize', 'OriginDuration', 'OriginContentSize', 'OriginStatus',
  'DownstreamStatus', 'DownstreamContentSize', 'RequestCount', 'Overhead', 'RetryAttempts', 'TLSVersion', 'TLSCipher',
  'TraceId', 'SpanId',
] as const;
type CoreField = (typeof CORE_FIELDS)[number];

/** What the CLF formats print; with them no other field is computed. */
const CLF_FIELDS: ReadonlySet<string> = new Set<CoreField>([
  'StartUTC', 'StartLocal', 'Duration', 'ClientHost', 'ClientUsername', 'RequestMethod', 'RequestPath', 'RequestProtocol',
  'DownstreamStatus', 'DownstreamContentSize', 'RequestCount', 'RouterName', 'ServiceURL',
]);
const CLF_HEADERS = ['referer', 'user-agent'];

/** Names Traefik documents but Wharf does not fill; accepted in fields.names so Traefik configurations load. */
const TRAEFIK_ONLY_FIELDS = ['GzipRatio', 'TLSClientSubject', 'RequestLine', 'OriginStatusLine', 'DownstreamStatusLine'];

export const FIELD_NAMES: readonly string[] = [...CORE_FIELDS, ...TRAEFIK_ONLY_FIELDS];

/** Per core field: whether the configured format prints it and fields.defaultMode/names keep it. */
export type Wanted = Readonly<Record<CoreField, boolean>>;

/**
 * All core fields in one object literal (one hidden class, no per-field calls); the costly ones are
 * computed only when wanted. With the CLF formats StartUTC/StartLocal are just the start time: the
 * formatter prints its own timestamp and only needs to know which of the two is kept.
 */
function coreFields(x: Exchange, want: Wanted, json: boolean): Fields {
  const { req, wharf } = x.ctx;
  const upstream = wharf.upstream;
  const origin = originDuration(upstream);
  const hostHeader = host(req);
  const split = hostHeader !== undefined && (want.RequestHost || want.RequestPort) ? requestHostPort(hostHeader) : undefined;
  const secure = want.RequestScheme || want.TLSVersion || want.TLSCipher ? tls(x) : undefined;
  const traced = want.TraceId || want.SpanId ? loggedTrace(x) : undefined;
  return {
    StartUTC: want.StartUTC ? (json ? utcTime(x.startMs) : x.startMs) : undefined,
    StartLocal: want.StartLocal ? (json ? localTime(x.startMs) : x.startMs) : undefined,
    Duration: x.durationNs,
    entryPointName: wharf.entrypoint,
    RouterName: wharf.router,
    ServiceName: wharf.service,
    ServiceURL: upstream?.url,
    ServiceAddr: want.ServiceAddr ? serviceAddr(upstream?.url) : undefined,
    ClientAddr: want.ClientAddr ? peer(x).addr : undefined,
    ClientHost: want.ClientHost ? clientHost(x) : undefined,
    ClientPort: want.ClientPort ? peer(x).port : undefined,
    ClientUsername: want.ClientUsername ? clientUsername(x) : undefined,
    RequestAddr: hostHeader,
    RequestHost: split?.[0],
    RequestPort: split?.[1],
    RequestMethod: req.method,
    RequestPath: x.target,
    RequestProtocol: want.RequestProtocol ? `HTTP/${req.httpVersion}` : undefined,
    RequestScheme: secure ? 'https' : 'http',
    RequestContentSize: x.bytesIn,
    OriginDuration: origin,
    // Origin facts come from the upstream's answer, or the one the service step wrote in its place (502/503/504);
    // answers made by middlewares leave them out, as in Traefik.
    OriginContentSize: upstream?.status !== undefined ? upstream.bytes : wharf.serviceAnswer?.bytes,
    OriginStatus: upstream?.status ?? wharf.serviceAnswer?.status,
    DownstreamStatus: x.status,
    DownstreamContentSize: x.bytesOut,
    RequestCount: req.id,
    Overhead: x.durationNs - (origin ?? 0),
    RetryAttempts: wharf.retryAttempts,
    TLSVersion: secure && tlsVersion(secure),
    TLSCipher: secure?.getCipher()?.standardName,
    TraceId: traced?.traceId,
    SpanId: traced?.spanId,
  };
}

/** Builds the kept fields of a finished exchange; compiled once from the configuration. */
export interface FieldPlan {
  capture: CapturePlan;
  /** The kept fields as an object: what the CLF formats print from (any format may call it). */
  build(x: Exchange): Fields;
  /** The json format's line (no newline), the same text as formatJSON(build(x), nowMs). */
  jsonLine(x: Exchange, nowMs: number): string;
}

export function compileFields(config: AccessLogConfig['fields'], format: AccessLogConfig['format']): FieldPlan {
  const modes = namedModes(config.names);
  const json = format === 'json';
  const printed = (name: CoreField) => json || CLF_FIELDS.has(name);
  const kept = (name: CoreField) => (modes.get(name.toLowerCase()) ?? config.defaultMode) === 'keep';
  const want = Object.fromEntries(CORE_FIELDS.map((name) => [name, printed(name) && kept(name)])) as Wanted;
  // Dropped fields the format prints are blanked after the literal is built (undefined = not written).
  const blank = CORE_FIELDS.filter((name) => printed(name) && !kept(name));
  const headers = new HeaderPolicy(config.headers.defaultMode, config.headers.names);
  return {
    capture: {
      countRequestBody: want.RequestContentSize,
      countResponseBody: want.DownstreamContentSize,
      originHeaders: json && headers.active,
      downstreamHeaders: json && headers.active,
      query: compileQueryPolicy(config.queryParameters),
    },
    build(x) {
      const fields = coreFields(x, want, json);
      for (const name of blank) fields[name] = undefined;
      if (!headers.active) return fields;
      if (!json) {
        headers.addNamed(fields, 'request_', x.ctx.req.headers, CLF_HEADERS);
        return fields;
      }
      addHeaderFields(fields, x, headers);
      return fields;
    },
    jsonLine(x, nowMs) {
      const line = jsonLine(x, want, nowMs);
      if (!headers.active) return endJsonLine(line);
      const headerFields: Fields = {};
      addHeaderFields(headerFields, x, headers);
      return endJsonLine(appendJsonFields(line, headerFields));
    },
  };
}

/** The json format's `request_`, `origin_` and `downstream_` header fields, in that order. */
function addHeaderFields(fields: Fields, x: Exchange, headers: HeaderPolicy): void {
  headers.addTo(fields, 'request_', x.ctx.req.headers, 'host');
  headers.addTo(fields, 'origin_', x.originHeaders);
  headers.addTo(fields, 'downstream_', downstreamHeaders(x));
}

/** fields.names with lower-cased keys (Traefik matches field names case-insensitively); unknown names fail. */
function namedModes(names: Record<string, 'keep' | 'drop'>): Map<string, 'keep' | 'drop'> {
  const known = new Set(FIELD_NAMES.map((n) => n.toLowerCase()));
  const modes = new Map<string, 'keep' | 'drop'>();
  for (const [name, mode] of Object.entries(names)) {
    if (!known.has(name.toLowerCase())) {
      throw new Error(`accessLog.fields.names.${name}: unknown field; known fields: ${FIELD_NAMES.join(', ')}`);
    }
    modes.set(name.toLowerCase(), mode);
  }
  return modes;
}
