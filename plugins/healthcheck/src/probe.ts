// One active health check: an HTTP request to a server, judged by its status, bounded by a timeout.
import http2 from 'node:http2';
import { Agent, interceptors, type Dispatcher } from 'undici';
import { formatDuration, type ServiceInfo } from '@wharf/core';
import { upstreamConnector } from '@wharf/core/tls';
import type { HealthCheckConfig } from './schema.js';

/** The service's resolved serversTransport, as the core hands it out (ServiceInfo.transport). */
export type ProbeTransport = NonNullable<ServiceInfo['transport']>;

export interface ProbeResult {
  up: boolean;
  /** Why the server is considered down (shown in the log and the health event). */
  reason?: string;
}

/** A server's check, precomputed once from the server URL and the service's healthCheck settings. */
export interface ProbeTarget {
  url: URL;
  method: string;
  headers: Record<string, string>;
  timeoutMs: number;
  /** Expected status; undefined = any 2xx or 3xx. */
  status?: number;
  followRedirects: boolean;
}

/** Where the check goes: the server URL with scheme/port replaced and `path` resolved against it (as Go's URL.Parse). */
export function probeTarget(serverUrl: string, config: HealthCheckConfig): ProbeTarget {
  const base = new URL(serverUrl);
  if (config.scheme !== undefined) base.protocol = `${config.scheme}:`;
  if (config.port !== undefined) base.port = String(config.port);
  const url = new URL(config.path, base);
  const headers: Record<string, string> = { 'user-agent': 'Wharf-HealthCheck' };
  for (const [name, value] of Object.entries(config.headers ?? {})) headers[name.toLowerCase()] = value;
  if (config.hostname !== undefined) headers.host = config.hostname;
  return {
    url,
    method: config.method.toUpperCase(),
    headers,
    timeoutMs: config.timeout,
    status: config.status,
    followRedirects: config.followRedirects,
  };
}

/**
 * The HTTP clients of the checks. Keep-alive is off: every check opens its own connection, so a server
 * that stopped accepting is noticed, and no check fails because the server just closed an idle connection.
 */
export interface ProbeClients {
  plain: Dispatcher;
  redirecting: Dispatcher;
  close(): Promise<void>;
}

/**
 * Clients that connect with the proxy's own connector (certificate checks, rootCAs, client certificates, SNI,
 * dial timeout). Its SNI is pinned to serverName, else the host connected to: never the Host header, which
 * healthCheck.hostname may set.
 */
export function createProbeClients(transport: ProbeTransport = {}): ProbeClients {
  const agent = new Agent({ pipelining: 0, connect: upstreamConnector(transport) });
  return {
    plain: agent,
    redirecting: agent.compose(interceptors.redirect({ maxRedirections: 10 })),
    close: () => agent.close(),
  };
}

/** Sends one check; never throws. `stop` aborts it without a verdict worth keeping. */
export async function probe(target: ProbeTarget, clients: ProbeClients, stop: AbortSignal): Promise<ProbeResult> {
  const timeout = AbortSignal.timeout(target.timeoutMs);
  const signal = AbortSignal.any([timeout, stop]);
  const what = `${target.method} ${target.url.href}`;
  try {
    const status = target.url.protocol === 'h2c:' ? await h2cStatus(target, signal) : await http1Status(target, clients, signal);
    const healthy = target.status !== undefined ? status === target.status : status >= 200 && status < 400;
    if (healthy) return { up: true };
    const expected = target.status !== undefined ? String(target.status) : '2xx or 3xx';
    return { up: false, reason: `${what} answered ${status} (expected ${expected})` };
  } catch (err) {
    if (timeout.aborted) return { up: false, reason: `${what}: no answer within ${formatDuration(target.timeoutMs)}` };
    return { up: false, reason: `${what}: ${describeError(err)}` };
  }
}

async function http1Status(target: ProbeTarget, clients: ProbeClients, signal: AbortSignal): Promise<number> {
  const response = await (target.followRedirects ? clients.redirecting : clients.plain).request({
    origin: target.url.origin,
    path: target.url.pathname + target.url.search,
    method: target.method as Dispatcher.HttpMethod,
    headers: target.headers,
    signal,
  });
  // The verdict is the status; the body is read (bounded) only to finish the exchange cleanly.
  await response.body.dump({ limit: 64 * 1024, signal });
  return response.statusCode;
}

/**
 * An h2c:// server speaks HTTP/2 without TLS only (a gRPC server refuses HTTP/1.1): the check goes over a
 * prior-knowledge HTTP/2 connection of its own, closed after the answer's head. Redirects are not followed.
 */
function h2cStatus(target: ProbeTarget, signal: AbortSignal): Promise<number> {
  const { host, ...headers } = target.headers;
  const session = http2.connect(`http://${target.url.host}`);
  return new Promise<number>((resolve, reject) => {
    const fail = (err: unknown) => reject(err instanceof Error ? err : new Error(String(err)));
    signal.addEventListener('abort', () => fail(signal.reason), { once: true });
    session.once('error', fail);
    const request = session.request({ ...headers, ':method': target.method, ':path': target.url.pathname + target.url.search, ':authority': host ?? target.url.host }, { endStream: true });
    request.once('response', (head) => resolve(Number(head[':status'])));
    request.once('error', fail);
    request.resume();
  }).finally(() => session.destroy());
}

function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  const cause = (err as { cause?: unknown }).cause;
  const detail = err.message || (typeof code === 'string' ? code : err.name);
  const described = cause instanceof Error && cause.message && !detail.includes(cause.message) ? `${detail} (${cause.message})` : detail;
  return isCertificateError(code) ? `${described} [${String(code)}]: ${CERTIFICATE_HINT}` : described;
}

const CERTIFICATE_HINT = "the server's certificate was rejected as the proxy would reject it; fix the certificate, or set rootCAs, serverName or insecureSkipVerify on the service's serversTransport";

/** OpenSSL verification codes (CERT_HAS_EXPIRED, DEPTH_ZERO_SELF_SIGNED_CERT, …) and Node's ERR_TLS_CERT_ALTNAME_INVALID. */
function isCertificateError(code: unknown): boolean {
  return typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/.test(code);
}
