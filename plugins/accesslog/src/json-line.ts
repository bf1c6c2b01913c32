// The json format's line, written straight from the exchange: the same text as JSON.stringify of the field
// object (format.ts, formatJSON), without building that object or walking it.
import { loggedTrace, type Exchange } from './exchange.js';
import type { Wanted } from './fields.js';
import { localTime, utcTime, type Fields } from './format.js';
import { clientHost, clientUsername, host, originDuration, peer, requestHostPort, serviceAddr, tls, tlsVersion } from './values.js';

// Characters JSON.stringify escapes: quote, backslash, controls and lone surrogates; other text goes as it is.
// eslint-disable-next-line no-control-regex -- control characters are exactly what JSON must escape
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A JSON string literal, exactly as JSON.stringify writes it; most values need no escaping at all. */
export function jsonString(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

const quotedNames = new Map<string, string>();
// Names come from the configuration, but a runaway one must not grow memory either.
const MAX_QUOTED_NAMES = 4096;

/** jsonString for entrypoint, router and service names and server URLs: few distinct values, each quoted once. */
function quotedName(s: string): string {
  let quoted = quotedNames.get(s);
  if (quoted === undefined) {
    quoted = jsonString(s);
    if (quotedNames.size < MAX_QUOTED_NAMES) quotedNames.set(s, quoted);
  }
  return quoted;
}

/** A JSON value as JSON.stringify writes it (non-finite numbers become null); undefined is not called with. */
function jsonValue(v: unknown): string {
  if (typeof v === 'string') return jsonString(v);
  if (typeof v === 'number') return Number.isFinite(v) ? `${v}` : 'null';
  return JSON.stringify(v) ?? 'null';
}

// The line's `time` changes once a second (and would evict StartUTC's per-millisecond value from utcTime).
let timeSecond = NaN;
let timeText = '';

/** `2009-11-10T23:00:00Z`: the line's `time`, to the second, as Traefik's logrus writes it. */
export function lineTime(nowMs: number): string {
  const second = Math.floor(nowMs / 1000);
  if (second !== timeSecond) {
    timeSecond = second;
    timeText = utcTime(second * 1000);
  }
  return timeText;
}

/**
 * The core fields in CORE_FIELDS order, each only when kept and present: one pass of string appends
 * (measured 1.8 µs per line against 3.8–5.7 µs for the field object plus JSON.stringify).
 */
export function jsonLine(x: Exchange, want: Wanted, nowMs: number): string {
  const { req, wharf } = x.ctx;
  const upstream = wharf.upstream;
  const origin = originDuration(upstream);
  const hostHeader = host(req);
  const secure = want.RequestScheme || want.TLSVersion || want.TLSCipher ? tls(x) : undefined;
  let out = `{"level":"info","time":"${lineTime(nowMs)}"`;
  if (want.StartUTC) out += `,"StartUTC":"${utcTime(x.startMs)}"`;
  if (want.StartLocal) out += `,"StartLocal":"${localTime(x.startMs)}"`;
  if (want.Duration) out += `,"Duration":${jsonValue(x.durationNs)}`;
  if (want.entryPointName && wharf.entrypoint !== undefined) out += `,"entryPointName":${quotedName(wharf.entrypoint)}`;
  if (want.RouterName && wharf.router !== undefined) out += `,"RouterName":${quotedName(wharf.router)}`;
  if (want.ServiceName && wharf.service !== undefined) out += `,"ServiceName":${quotedName(wharf.service)}`;
  if (upstream !== undefined) {
    if (want.ServiceURL) out += `,"ServiceURL":${quotedName(upstream.url)}`;
    if (want.ServiceAddr) out += `,"ServiceAddr":${quotedName(serviceAddr(upstream.url)!)}`;
  }
  if (want.ClientAddr) out += `,"ClientAddr":${jsonString(peer(x).addr)}`;
  if (want.ClientHost) out += `,"ClientHost":${jsonString(clientHost(x))}`;
  if (want.ClientPort) out += `,"ClientPort":"${peer(x).port}"`;
  if (want.ClientUsername) out += `,"ClientUsername":${jsonString(clientUsername(x))}`;
  if (hostHeader !== undefined) {
    if (want.RequestAddr) out += `,"RequestAddr":${jsonString(hostHeader)}`;
    if (want.RequestHost || want.RequestPort) {
      const [requestHost, requestPort] = requestHostPort(hostHeader);
      if (want.RequestHost) out += `,"RequestHost":${jsonString(requestHost)}`;
      if (want.RequestPort) out += `,"RequestPort":${jsonString(requestPort)}`;
    }
  }
  if (want.RequestMethod && req.method !== undefined) out += `,"RequestMethod":${jsonString(req.method)}`;
  if (want.RequestPath) out += `,"RequestPath":${jsonString(x.target)}`;
  if (want.RequestProtocol) out += `,"RequestProtocol":${jsonString(`HTTP/${req.httpVersion}`)}`;
  if (want.RequestScheme) out += secure ? ',"RequestScheme":"https"' : ',"RequestScheme":"http"';
  if (want.RequestContentSize) out += `,"RequestContentSize":${jsonValue(x.bytesIn)}`;
  if (want.OriginDuration && origin !== undefined) out += `,"OriginDuration":${jsonValue(origin)}`;
  // Origin facts come from the upstream's answer, or the one the service step wrote in its place (502/503/504);
  // answers made by middlewares leave them out, as in Traefik.
  const answer = upstream?.status !== undefined ? upstream : wharf.serviceAnswer;
  if (answer !== undefined) {
    if (want.OriginContentSize) out += `,"OriginContentSize":${jsonValue(answer.bytes)}`;
    if (want.OriginStatus) out += `,"OriginStatus":${jsonValue(answer.status)}`;
  }
  if (want.DownstreamStatus) out += `,"DownstreamStatus":${jsonValue(x.status)}`;
  if (want.DownstreamContentSize) out += `,"DownstreamContentSize":${jsonValue(x.bytesOut)}`;
  if (want.RequestCount && req.id !== undefined) out += `,"RequestCount":${jsonValue(req.id)}`;
  if (want.Overhead) out += `,"Overhead":${jsonValue(x.durationNs - (origin ?? 0))}`;
  if (want.RetryAttempts) out += `,"RetryAttempts":${jsonValue(wharf.retryAttempts)}`;
  if (secure !== undefined) {
    const version = want.TLSVersion ? tlsVersion(secure) : undefined;
    if (version !== undefined) out += `,"TLSVersion":${jsonString(version)}`;
    const cipher = want.TLSCipher ? secure.getCipher()?.standardName : undefined;
    if (cipher !== undefined) out += `,"TLSCipher":${jsonString(cipher)}`;
  }
  if (want.TraceId || want.SpanId) {
    const traced = loggedTrace(x);
    if (traced !== undefined) {
      // Lower-case hex from the SDK: nothing to escape.
      if (want.TraceId) out += `,"TraceId":"${traced.traceId}"`;
      if (want.SpanId) out += `,"SpanId":"${traced.spanId}"`;
    }
  }
  return out;
}

/** Appends `,"name":value` for each defined field (the header fields, gathered in an object so later duplicates win). */
export function appendJsonFields(out: string, fields: Fields): string {
  for (const name in fields) {
    const v = fields[name];
    if (v !== undefined) out += `,${jsonString(name)}:${jsonValue(v)}`;
  }
  return out;
}

/** Ends a line begun by jsonLine. */
export function endJsonLine(out: string): string {
  return `${out},"msg":""}`;
}
