// headers: Traefik's headers middleware — custom request and response headers, CORS (preflights answered here,
// never forwarded), the allowedHosts check and the security response headers.
import { validateHeaderName, validateHeaderValue, type OutgoingHttpHeaders } from 'node:http';
import { definePlugin, onResponseHeaders, type Logger, type Next, type ResponseHeaderHook, type WharfContext } from '@wharf/core';
import { compileCors, isPreflight, type Cors } from './cors.js';
import { firstValue, forwardedOverrides } from './forwarded.js';
import { compileSecure, type HeaderList } from './secure.js';
import { DEPRECATED_OPTIONS, schema, type HeadersConfig } from './schema.js';

export { schema, type HeadersConfig } from './schema.js';

interface HeaderPlan {
  readonly set: ReadonlyArray<readonly [string, string]>;
  readonly remove: readonly string[];
}

/**
 * Splits a name→value map into lower-cased headers to set and headers to remove (empty value). An empty Host is
 * skipped: Go keeps the Host outside the header map, so Traefik's removal does nothing.
 */
function plan(map: Record<string, string> | undefined): HeaderPlan {
  const set: [string, string][] = [];
  const remove: string[] = [];
  for (const [name, value] of Object.entries(map ?? {})) {
    const key = name.toLowerCase();
    if (value !== '') set.push([key, value]);
    else if (key !== 'host') remove.push(key);
  }
  return { set, remove };
}

const nonEmpty = (list: readonly unknown[] | undefined): boolean => list !== undefined && list.length > 0;
const hasKeys = (map: object | undefined): boolean => map !== undefined && Object.keys(map).length > 0;

/** Traefik's HasCustomHeadersDefined / HasCorsHeadersDefined / HasSecureHeadersDefined. */
export function definedParts(o: HeadersConfig): { custom: boolean; cors: boolean; secure: boolean } {
  return {
    custom: hasKeys(o.customRequestHeaders) || hasKeys(o.customResponseHeaders),
    cors:
      o.accessControlAllowCredentials === true || nonEmpty(o.accessControlAllowHeaders) || nonEmpty(o.accessControlAllowMethods) ||
      nonEmpty(o.accessControlAllowOriginList) || nonEmpty(o.accessControlAllowOriginListRegex) || nonEmpty(o.accessControlExposeHeaders) ||
      o.accessControlMaxAge !== undefined || o.addVaryHeader === true,
    secure:
      nonEmpty(o.allowedHosts) || nonEmpty(o.hostsProxyHeaders) || o.sslRedirect === true || o.sslTemporaryRedirect === true ||
      o.sslForceHost === true || !!o.sslHost || hasKeys(o.sslProxyHeaders) || o.stsSeconds !== undefined || o.stsIncludeSubdomains === true ||
      o.stsPreload === true || o.forceSTSHeader === true || o.frameDeny === true || !!o.customFrameOptionsValue || o.contentTypeNosniff === true ||
      o.browserXssFilter === true || !!o.customBrowserXSSValue || !!o.contentSecurityPolicy || !!o.contentSecurityPolicyReportOnly ||
      !!o.publicKey || !!o.referrerPolicy || !!o.featurePolicy || !!o.permissionsPolicy || o.isDevelopment === true,
  };
}

const VALUE_OPTIONS = [
  'customFrameOptionsValue', 'customBrowserXSSValue', 'contentSecurityPolicy', 'contentSecurityPolicyReportOnly', 'publicKey', 'referrerPolicy', 'permissionsPolicy',
] as const;
const LIST_VALUE_OPTIONS = ['accessControlAllowHeaders', 'accessControlAllowMethods', 'accessControlAllowOriginList', 'accessControlExposeHeaders'] as const;

function checkName(field: string, name: string): void {
  try {
    validateHeaderName(name);
  } catch {
    throw new Error(`${field}: not a valid header name, got ${JSON.stringify(name)}; use letters, digits and !#$%&'*+-.^_\`|~`);
  }
}

function checkValue(field: string, value: string): void {
  try {
    validateHeaderValue(field, value);
  } catch {
    throw new Error(`${field}: a header value cannot hold line breaks or control characters, got ${JSON.stringify(value)}`);
  }
}

/** Names and values that would make Node refuse the response at request time are configuration errors instead. */
function validateHeaderText(o: HeadersConfig): void {
  for (const field of ['customRequestHeaders', 'customResponseHeaders', 'sslProxyHeaders'] as const) {
    for (const [name, value] of Object.entries(o[field] ?? {})) {
      checkName(field, name);
      checkValue(`${field}.${name}`, value);
    }
  }
  (o.hostsProxyHeaders ?? []).forEach((name, i) => checkName(`hostsProxyHeaders[${i}]`, name));
  for (const field of VALUE_OPTIONS) if (o[field]) checkValue(field, o[field]);
  for (const field of LIST_VALUE_OPTIONS) (o[field] ?? []).forEach((value, i) => checkValue(`${field}[${i}]`, value));
}

/** Deprecated options are accepted and, as in Traefik v3.7, have no effect; said once per middleware build. */
function warnDeprecated(o: HeadersConfig, log: Logger): void {
  for (const [option, instead] of DEPRECATED_OPTIONS) {
    if (o[option] === undefined) continue;
    log.warn(`headers: ${option} is deprecated and ignored (Traefik v3 removed it); use ${instead}`);
  }
}

/** Traefik's preflight answer: 200, no body, the CORS headers; the request goes no further. */
function answerPreflight(ctx: WharfContext, cors: Cors): void {
  const headers = cors.preflightHeaders(ctx.req, firstValue(ctx.req.headers.origin) ?? '');
  ctx.body = null; // first, so Koa sends no Content-Type and keeps the status below
  ctx.status = 200;
  ctx.set(headers as Record<string, string>);
  ctx.set('Content-Length', '0');
}

/** unrolled/secure's bad-host answer (Go's http.Error): 500 `Bad Host`. */
function answerBadHost(ctx: WharfContext): void {
  ctx.status = 500;
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.type = 'text/plain; charset=utf-8';
  ctx.body = 'Bad Host\n';
}

const NO_HEADERS: HeaderList = [];
const SWITCHING_PROTOCOLS = 101;

/** Applies a response hook to an answer made inside the chain (Koa API), which the proxy's hooks never see. */
function editKoaAnswer(ctx: WharfContext, hook: ResponseHeaderHook): void {
  if (ctx.respond === false || ctx.res.headersSent) return;
  const current = ctx.response.headers as OutgoingHttpHeaders;
  const copy = { ...current };
  hook(ctx.status, copy);
  for (const name of Object.keys(current)) if (!(name in copy)) ctx.remove(name);
  for (const [name, value] of Object.entries(copy)) if (value !== undefined && value !== current[name]) ctx.set(name, value as string | string[]);
}

export default definePlugin({
  name: 'headers',
  description: 'Custom request and response headers, CORS (preflights answered by Wharf), allowedHosts and security headers.',
  schema,
  validate(options) {
    const parts = definedParts(options);
    if (!parts.custom && !parts.cors && !parts.secure) {
      throw new Error('headers: no option set, got an empty middleware (Traefik refuses it too); set e.g. customResponseHeaders, frameDeny or accessControlAllowOriginList');
    }
    validateHeaderText(options);
    compileCors(options); // regular expressions, named in the error
  },
  create(options, { name, log }) {
    warnDeprecated(options, log);
    const parts = definedParts(options);
    const request = plan(options.customRequestHeaders);
    const overrides = forwardedOverrides(options.customRequestHeaders);
    const response = plan(options.customResponseHeaders);
    const cors = parts.cors ? compileCors(options) : undefined;
    const corsOnResponse = cors?.touchesResponse === true ? cors : undefined;
    const secure = parts.secure ? compileSecure(options) : undefined;
    const customOnResponse = response.set.length + response.remove.length > 0;

    /** What Traefik's Header handler does to a response: custom headers, then CORS (after the security headers). */
    function headerPhase(out: OutgoingHttpHeaders, origin: string): void {
      for (const h of response.remove) delete out[h];
      for (const [h, value] of response.set) out[h] = value;
      corsOnResponse?.editResponse(out, origin);
    }

    /** The response hook for one request: the security headers, then the header phase. */
    function responseHook(security: HeaderList, origin: string): ResponseHeaderHook {
      return (status, out) => {
        // Traefik's response modifier runs at WriteHeader, which a hijacked 101 upgrade never calls.
        if (status === SWITCHING_PROTOCOLS) return;
        for (const [h, value] of security) out[h] = value;
        headerPhase(out, origin);
      };
    }

    // Without CORS on responses or a CSP nonce, nothing in the hook depends on the request: built once.
    const lists = secure?.lists ?? [NO_HEADERS, NO_HEADERS];
    const needed = lists.map((list) => list.length > 0 || secure?.withNonce !== undefined || customOnResponse || corsOnResponse !== undefined);
    const fixedHooks = corsOnResponse === undefined && secure?.withNonce === undefined ? lists.map((list) => responseHook(list, '')) : undefined;

    return async function headers(ctx: WharfContext, next: Next): Promise<void> {
      if (cors !== undefined && isPreflight(ctx.req)) return answerPreflight(ctx, cors);

      if (overrides !== undefined) {
        const prior = ctx.wharf.forwardedOverrides; // another headers middleware earlier in the chain
        ctx.wharf.forwardedOverrides = prior === undefined ? overrides(ctx) : { ...prior, ...overrides(ctx) };
      }
      const reqHeaders = ctx.req.headers;
      for (const h of request.remove) delete reqHeaders[h];
      for (const [h, value] of request.set) reqHeaders[h] = value;

      const origin = corsOnResponse === undefined ? '' : (firstValue(ctx.req.headers.origin) ?? '');
      if (secure !== undefined && !secure.hostAllowed(ctx)) {
        ctx.wharf.rejectedBy = name;
        answerBadHost(ctx);
        editKoaAnswer(ctx, (_status, out) => headerPhase(out, origin));
        return;
      }
      const variant = secure?.variant(ctx) ?? 0;
      if (!needed[variant]) return next();
      const hook = fixedHooks?.[variant] ?? responseHook(secure?.withNonce?.(lists[variant]) ?? lists[variant], origin);
      onResponseHeaders(ctx, hook);
      await next();
      editKoaAnswer(ctx, hook);
    };
  },
});
