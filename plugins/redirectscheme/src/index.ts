// redirectScheme: redirect requests to another scheme and port (http → https), as a router middleware or for a whole
// entrypoint through Traefik's `entryPoints.<name>.http.redirections.entryPoint`.
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { definePlugin, Type, type Next, type PluginHost, type Static, type StaticConfig, type WharfContext } from '@wharf/core';
import { parseAddress } from '@wharf/core/config';

const schema = Type.Object(
  {
    scheme: Type.String({ default: 'https', pattern: '^[A-Za-z][A-Za-z0-9+.-]*$', description: 'Scheme of the new URL (default https).' }),
    port: Type.Optional(Type.String({ pattern: '^[0-9]{1,5}$', description: "Port of the new URL; omitted when it is the scheme's default (443 for https, 80 for http). Default: no port." })),
    permanent: Type.Boolean({ default: false, description: 'Permanent redirection: 301/308 instead of 302/307 (default false).' }),
  },
  { additionalProperties: false },
);

const RedirectionsSchema = Type.Object(
  {
    entryPoint: Type.Optional(
      Type.Object(
        {
          to: Type.String({ minLength: 1, description: 'Entrypoint (its port is used) or port (`:443`) to redirect to.' }),
          scheme: Type.String({ default: 'https', description: 'Scheme of the new URL (default https).' }),
          permanent: Type.Boolean({ default: true, description: 'Permanent redirection: 301/308 (default true).' }),
          priority: Type.Optional(Type.Integer({ description: 'Accepted for compatibility: the redirection applies to every request of the entrypoint.' })),
        },
        { additionalProperties: false, description: 'Redirect every request of this entrypoint to another entrypoint or port (http → https).' },
      ),
    ),
  },
  { additionalProperties: false },
);

export type RedirectSchemeConfig = Static<typeof schema>;
type EntryPointRedirection = NonNullable<Static<typeof RedirectionsSchema>['entryPoint']>;

// After ping (100), so a health check on the plain entrypoint is still answered there.
const ENTRYPOINT_REDIRECT_ORDER = 150;
const DEFAULT_PORTS: Record<string, string> = { http: '80', https: '443', ws: '80', wss: '443' };

/** The URL the client used, in parts (Traefik's rawURL): scheme from the connection or a trusted X-Forwarded-Proto. */
export interface RequestURL {
  scheme: string;
  /** Host without port; IPv6 literals keep their brackets. */
  host: string;
  /** '' when absent or the scheme's default. */
  port: string;
  /** Origin-form path and query. */
  uri: string;
}

export function requestURL(ctx: WharfContext): RequestURL {
  let scheme = (ctx.req.socket as Partial<TLSSocket>).encrypted === true ? 'https' : 'http';
  const forwarded = ctx.wharf.trustForwarded ? ctx.req.headers['x-forwarded-proto'] : undefined;
  if (typeof forwarded === 'string' && forwarded !== '') scheme = forwarded.split(',')[0]!.trim().toLowerCase();
  const authority = ctx.req.headers.host ?? (ctx.req.headers[':authority'] as string | undefined) ?? '';
  const { host, port } = splitHostPort(authority);
  return { scheme, host, port: port === DEFAULT_PORTS[scheme] ? '' : port, uri: originForm(ctx.req.url ?? '/') };
}

function splitHostPort(authority: string): { host: string; port: string } {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(authority);
  return m ? { host: m[1]!, port: m[2] ?? '' } : { host: authority, port: '' };
}

function originForm(url: string): string {
  if (url.startsWith('/') || url === '*') return url;
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*(.*)$/.exec(url);
  return m ? m[1] || '/' : url;
}

export function formatURL(url: RequestURL): string {
  return `${url.scheme}://${url.host}${url.port ? `:${url.port}` : ''}${url.uri}`;
}

/** Where to send the request, or undefined when it already has the wanted scheme and port. */
export function redirectLocation(current: RequestURL, scheme: string, port: string | undefined): string | undefined {
  const wanted = scheme.toLowerCase();
  const target: RequestURL = { ...current, scheme: wanted, port: port && port !== DEFAULT_PORTS[wanted] ? port : '' };
  const location = formatURL(target);
  return location === formatURL(current) ? undefined : location;
}

/** Traefik's statuses: 302/301 for GET, 307/308 otherwise so the method and body are kept (RFC 9110 §15.4). */
export function redirectStatus(method: string, permanent: boolean): number {
  if (method === 'GET') return permanent ? 301 : 302;
  return permanent ? 308 : 307;
}

const STATUS_TEXT: Record<number, string> = { 301: 'Moved Permanently', 302: 'Found', 307: 'Temporary Redirect', 308: 'Permanent Redirect' };

/** Builds the middleware; `port` is read per request so an entrypoint bound to port 0 can supply its real port. */
function redirectMiddleware(scheme: string, port: () => string | undefined, permanent: boolean) {
  return async function redirectScheme(ctx: WharfContext, next: Next): Promise<void> {
    const location = redirectLocation(requestURL(ctx), scheme, port());
    if (location === undefined) return next();
    const status = redirectStatus(ctx.method, permanent);
    ctx.status = status;
    ctx.set('Location', location);
    ctx.type = 'text/plain; charset=utf-8';
    ctx.body = STATUS_TEXT[status]!;
  };
}

/** `to` → a port: an entrypoint's (its bound port when configured as :0) or a literal `:443` / `443`. */
function targetPort(host: PluginHost, from: string, to: string): () => string {
  const entryPoints = (host.staticConfig as StaticConfig).entryPoints;
  const name = Object.keys(entryPoints).find((n) => n.toLowerCase() === to.toLowerCase());
  if (name !== undefined) {
    let port = String(parseAddress(entryPoints[name]!.address, name).port);
    if (port === '0') {
      host.events.on('listening', (e) => {
        if (e.entrypoint === name) port = String((e.server.address() as AddressInfo).port);
      });
    }
    return () => port;
  }
  const literal = /^:?(\d{1,5})$/.exec(to.trim());
  if (literal) return () => literal[1]!;
  throw new Error(`entryPoints.${from}.http.redirections.entryPoint.to: '${to}' is neither an entrypoint (known: ${Object.keys(entryPoints).join(', ')}) nor a port like :443`);
}

export default definePlugin({
  name: 'redirectScheme',
  description: 'Redirects to another scheme and port (http → https); also the entrypoint-wide http.redirections.entryPoint.',
  schema,
  config: { entryPoint: { 'http.redirections': RedirectionsSchema } },
  create(options) {
    const port = options.port;
    return redirectMiddleware(options.scheme, () => port, options.permanent);
  },
  setup(_config, host) {
    for (const [name, ep] of Object.entries((host.staticConfig as StaticConfig).entryPoints)) {
      const redirection = (ep.http as { redirections?: { entryPoint?: EntryPointRedirection } }).redirections?.entryPoint;
      if (!redirection) continue;
      const port = targetPort(host, name, redirection.to);
      host.entrypoints.use(redirectMiddleware(redirection.scheme, port, redirection.permanent), { entrypoints: [name], order: ENTRYPOINT_REDIRECT_ORDER });
    }
  },
});
