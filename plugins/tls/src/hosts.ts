// Which TLS options each host uses on an entrypoint (from the routers' Host rules), and the 421 answer to domain fronting.
import type { TLSSocket } from 'node:tls';
import { qualify, type Logger, type Next, type RouterInfo, type RuntimeInfo, type WharfContext } from '@wharf/core';
import { compileRule } from '@wharf/core/config';
import { normalizeName } from './certificates.js';

export const DEFAULT_OPTIONS = 'default';

/** host (normalized) → qualified TLS options name, for one entrypoint. */
export type HostOptions = ReadonlyMap<string, string>;

/**
 * The options name a router refers to, qualified like Traefik does (`name@provider`, `default` stays global).
 * An unqualified name defined by exactly one other provider is taken from it, so file-defined options can be
 * used from labels without `@file`.
 */
export function resolveOptionsName(reference: string | undefined, provider: string, known: ReadonlySet<string>): string {
  if (!reference || reference === DEFAULT_OPTIONS) return DEFAULT_OPTIONS;
  const qualified = qualify(reference, provider);
  if (known.has(qualified) || reference.includes('@')) return qualified;
  const elsewhere = [...known].filter((name) => name.slice(0, name.lastIndexOf('@')) === reference);
  return elsewhere.length === 1 ? elsewhere[0]! : qualified;
}

/** The options reference of a router on a TLS entrypoint: its own `tls`, else the entrypoint's `http.tls` (Traefik's model). */
function routerReference(router: RouterInfo, entrypointOptions: string | undefined): string | undefined {
  const own = router.config?.tls;
  return own !== undefined ? own.options : entrypointOptions;
}

/** Hosts the rule requires; routers without a plain Host() rule do not take part in the choice of options. */
function hostsOf(rule: string): readonly string[] {
  try {
    return compileRule(rule).hosts ?? [];
  } catch {
    return [];
  }
}

/**
 * Builds the host → options map of one entrypoint. Two routers giving one host different options make that host
 * fall back to `default`, as in Traefik. Problems are logged once per configuration generation.
 */
export function buildHostOptions(info: RuntimeInfo, entrypoint: string, entrypointOptions: string | undefined, known: ReadonlySet<string>, log: Logger, tlsRoutersOnly = false): HostOptions {
  const map = new Map<string, string>();
  const conflicts = new Set<string>();
  for (const router of Object.values(info.routers)) {
    if (router.status === 'disabled' || !router.config || !router.entryPoints.includes(entrypoint)) continue;
    // On an entrypoint without http.tls only routers with `tls` answer TLS connections.
    if (tlsRoutersOnly && router.config.tls === undefined) continue;
    const name = resolveOptionsName(routerReference(router, entrypointOptions), router.provider, known);
    if (name !== DEFAULT_OPTIONS && !known.has(name)) {
      log.error({ router: router.name, entryPoint: entrypoint }, `router ${router.name}: TLS options '${name}' do not exist (defined: ${[...new Set([DEFAULT_OPTIONS, ...known])].join(', ')}); handshakes for its hosts are refused`);
    }
    for (const host of hostsOf(router.config.rule)) {
      const previous = map.get(host);
      if (previous !== undefined && previous !== name) conflicts.add(host);
      map.set(host, name);
    }
  }
  for (const host of conflicts) {
    log.error({ entryPoint: entrypoint }, `routers for host ${host} on entrypoint ${entrypoint} use different TLS options; using the default TLS options for it`);
    map.set(host, DEFAULT_OPTIONS);
  }
  return map;
}

/** Options for a server name or request host: exact (case-insensitive, trailing dot ignored), else `default`. */
export function optionsFor(map: HostOptions, name: string | undefined): string {
  if (!name) return DEFAULT_OPTIONS;
  return map.get(normalizeName(name)) ?? DEFAULT_OPTIONS;
}

/** The request's host without port, as routing sees it (Host header, or :authority over HTTP/2). */
function requestHost(ctx: WharfContext): string {
  const header = ctx.req.headers.host ?? (ctx.req.headers[':authority'] as string | undefined) ?? '';
  const host = header.startsWith('[') ? header.slice(1, header.indexOf(']')) : header.replace(/:\d*$/, '');
  return normalizeName(host);
}

/**
 * Domain-fronting protection (Traefik's SNI check): a request whose Host would have been served with other TLS
 * options than the ones the handshake used (chosen by SNI) is answered 421 Misdirected Request (RFC 9110 §15.5.20).
 */
export function misdirectedRequestCheck(current: () => HostOptions) {
  return async function tlsMisdirectedRequest(ctx: WharfContext, next: Next): Promise<void> {
    const socket = ctx.req.socket as Partial<TLSSocket>;
    if (socket.encrypted !== true) return next();
    const servername = normalizeName(typeof socket.servername === 'string' ? socket.servername : '');
    const host = requestHost(ctx);
    if (host !== servername) {
      const map = current();
      if (optionsFor(map, host) !== optionsFor(map, servername)) {
        ctx.status = 421;
        ctx.type = 'text/plain; charset=utf-8';
        ctx.body = 'Misdirected Request\n';
        return;
      }
    }
    await next();
  };
}
