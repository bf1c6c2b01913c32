// The security part of Traefik's headers middleware (unrolled/secure v1.0.9 as Traefik configures it): the
// allowedHosts check, HTTPS detection (TLS or sslProxyHeaders) and the security response headers.
import { randomBytes } from 'node:crypto';
import type { WharfContext } from '@wharf/core';
import { headerReader, isTLS, requestHost, type HeaderReader } from './forwarded.js';
import type { HeadersConfig } from './schema.js';

export type HeaderList = ReadonlyArray<readonly [string, string]>;

export interface Secure {
  /** False when allowedHosts is set (and not isDevelopment) and the request's host is not in it. */
  hostAllowed(ctx: WharfContext): boolean;
  /** The security headers without nonces: [plain HTTP, HTTPS]; the same two lists for every request. */
  readonly lists: readonly [HeaderList, HeaderList];
  /** 1 when this request is HTTPS and that changes the headers (HSTS, HPKP), else 0. */
  variant(ctx: WharfContext): 0 | 1;
  /** Adds the CSP headers with a fresh nonce, when a CSP holds `$NONCE` (undefined otherwise). */
  readonly withNonce: ((list: HeaderList) => HeaderList) | undefined;
}

const NONCE = '$NONCE';

/** Compiles the security options once per middleware. */
export function compileSecure(o: HeadersConfig): Secure {
  const dev = o.isDevelopment === true;
  const hostCheck = dev ? undefined : allowedHostCheck(o);
  const isHTTPS = httpsCheck(o);

  // Everything but HSTS and HPKP is the same on every request; those two only when the request is HTTPS.
  const always = staticHeaders(o);
  const onlyHTTPS: [string, string][] = [];
  const sts = dev ? undefined : stsValue(o);
  if (sts !== undefined && o.forceSTSHeader === true) always.unshift(['strict-transport-security', sts]);
  else if (sts !== undefined) onlyHTTPS.push(['strict-transport-security', sts]);
  if (!dev && o.publicKey) onlyHTTPS.push(['public-key-pins', o.publicKey]);
  const overHTTPS: HeaderList = [...onlyHTTPS, ...always];
  const nonced = nonceTemplates(o);

  return {
    hostAllowed: hostCheck ?? (() => true),
    lists: [always, overHTTPS],
    variant: onlyHTTPS.length > 0 ? (ctx) => (isHTTPS(ctx) ? 1 : 0) : () => 0,
    withNonce: nonced.length === 0 ? undefined : (list) => {
      // unrolled/secure: one fresh 16-byte nonce per request, base64 without padding, in both CSP headers.
      const nonce = `'nonce-${randomBytes(16).toString('base64').replace(/=+$/, '')}'`;
      return [...list, ...nonced.map(([name, parts]) => [name, parts.join(nonce)] as const)];
    },
  };
}

/** Headers whose value never depends on the request (CSP without a nonce included). */
function staticHeaders(o: HeadersConfig): [string, string][] {
  const out: [string, string][] = [];
  const frame = o.customFrameOptionsValue || (o.frameDeny ? 'DENY' : '');
  if (frame) out.push(['x-frame-options', frame]);
  if (o.contentTypeNosniff) out.push(['x-content-type-options', 'nosniff']);
  const xss = o.customBrowserXSSValue || (o.browserXssFilter ? '1; mode=block' : '');
  if (xss) out.push(['x-xss-protection', xss]);
  if (o.contentSecurityPolicy && !o.contentSecurityPolicy.includes(NONCE)) out.push(['content-security-policy', o.contentSecurityPolicy]);
  if (o.contentSecurityPolicyReportOnly && !o.contentSecurityPolicyReportOnly.includes(NONCE)) {
    out.push(['content-security-policy-report-only', o.contentSecurityPolicyReportOnly]);
  }
  if (o.referrerPolicy) out.push(['referrer-policy', o.referrerPolicy]);
  if (o.permissionsPolicy) out.push(['permissions-policy', o.permissionsPolicy]);
  return out;
}

/** CSP values with `$NONCE`, split around it so a request only joins the parts. */
function nonceTemplates(o: HeadersConfig): Array<[string, string[]]> {
  const out: Array<[string, string[]]> = [];
  if (o.contentSecurityPolicy?.includes(NONCE)) out.push(['content-security-policy', o.contentSecurityPolicy.split(NONCE)]);
  if (o.contentSecurityPolicyReportOnly?.includes(NONCE)) out.push(['content-security-policy-report-only', o.contentSecurityPolicyReportOnly.split(NONCE)]);
  return out;
}

export function stsValue(o: HeadersConfig): string | undefined {
  if (!o.stsSeconds) return undefined;
  return `max-age=${o.stsSeconds}${o.stsIncludeSubdomains ? '; includeSubDomains' : ''}${o.stsPreload ? '; preload' : ''}`;
}

/** allowedHosts against the first non-empty hostsProxyHeaders header, else Host (port included, case-insensitive). */
function allowedHostCheck(o: HeadersConfig): ((ctx: WharfContext) => boolean) | undefined {
  const allowed = new Set((o.allowedHosts ?? []).map((h) => h.toLowerCase()));
  if (allowed.size === 0) return undefined;
  const proxies: HeaderReader[] = (o.hostsProxyHeaders ?? []).map(headerReader);
  return (ctx) => {
    let host: string | undefined;
    for (const read of proxies) if ((host = read(ctx)) !== undefined) break;
    return allowed.has((host ?? requestHost(ctx.req)).toLowerCase());
  };
}

/** Secure's isSSL: a TLS connection, an absolute https:// request target, or one of sslProxyHeaders with its value. */
function httpsCheck(o: HeadersConfig): (ctx: WharfContext) => boolean {
  const proxies = Object.entries(o.sslProxyHeaders ?? {}).map(([name, value]) => [headerReader(name), value] as const);
  return (ctx) => {
    if (isTLS(ctx.req)) return true;
    const url = ctx.req.url;
    if (url !== undefined && url.charCodeAt(0) !== 47 /* / */ && /^https:\/\//i.test(url)) return true;
    for (const [read, value] of proxies) if ((read(ctx) ?? '') === value) return true;
    return false;
  };
}
