// The HTTP side of the plugin: Traefik's `/api/...` endpoints, the SSE stream and the dashboard's files,
// all under `basePath`; used by the insecure entrypoint hook and by the api@internal service alike.
import type { CertificateResolverInfo, PluginHost, RuntimeInfo, WharfContext } from '@wharf/core';
import type { Asset } from './assets.js';
import type { EventHub } from './events.js';
import {
  certificateResolverRepresentation,
  elementSchemas,
  entryPointRepresentation,
  middlewareRepresentation,
  overview,
  rawData,
  routerRepresentation,
  serviceRepresentation,
  tcpMiddlewareRepresentation,
  tcpRouterRepresentation,
  tcpServiceRepresentation,
  udpRouterRepresentation,
  udpServiceRepresentation,
  type ElementSchemas,
} from './present.js';
import { BadRequest, keep, paginate, parseListQuery, sortItems } from './query.js';
import type { Traffic } from './traffic.js';

export interface ApiOptions {
  host: PluginHost;
  /** Serve /dashboard/ too. */
  dashboard: boolean;
  /** Prefix of /api and /dashboard (`/` or `/traefik`). */
  basePath: string;
  traffic: Traffic;
  events: EventHub;
  assets: ReadonlyMap<string, Asset>;
  /** The latest state of each certificate resolver, by name (the `certificateResolver` event). */
  resolvers: ReadonlyMap<string, CertificateResolverInfo>;
  version: { Version: string; Codename: string; startDate: string };
}

/** Answers a request when its path is the API's or the dashboard's; returns false to let it through. */
export type ApiHandler = (ctx: WharfContext, options?: { redirectRoot?: boolean }) => boolean;

const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** One list endpoint (`/api/<protocol>/<kind>`): its elements, how each is shown, searched and named in a 404. */
interface Section {
  elements: (info: RuntimeInfo) => Record<string, unknown>;
  present: (element: never, schemas: ElementSchemas) => Record<string, unknown>;
  /** Traefik searches routers by name and rule, everything else by name. */
  searchIn: readonly string[];
  singular: string;
}

const ROUTERS = ['name', 'rule'] as const;
const BY_NAME = ['name'] as const;

const SECTIONS: Record<string, Section> = {
  'http/routers': { elements: (i) => i.routers, present: routerRepresentation, searchIn: ROUTERS, singular: 'router' },
  'http/services': { elements: (i) => i.services, present: serviceRepresentation, searchIn: BY_NAME, singular: 'service' },
  'http/middlewares': { elements: (i) => i.middlewares, present: middlewareRepresentation, searchIn: BY_NAME, singular: 'middleware' },
  'tcp/routers': { elements: (i) => i.tcp?.routers ?? {}, present: tcpRouterRepresentation, searchIn: ROUTERS, singular: 'router' },
  'tcp/services': { elements: (i) => i.tcp?.services ?? {}, present: tcpServiceRepresentation, searchIn: BY_NAME, singular: 'service' },
  'tcp/middlewares': { elements: (i) => i.tcp?.middlewares ?? {}, present: tcpMiddlewareRepresentation, searchIn: BY_NAME, singular: 'middleware' },
  'udp/routers': { elements: (i) => i.udpRouters ?? {}, present: udpRouterRepresentation, searchIn: ROUTERS, singular: 'router' },
  'udp/services': { elements: (i) => i.udpServices ?? {}, present: udpServiceRepresentation, searchIn: BY_NAME, singular: 'service' },
};

export function createApi(options: ApiOptions): ApiHandler {
  const { host, traffic, events, assets } = options;
  const base = options.basePath.replace(/\/+$/, '');
  const schemas: ElementSchemas = elementSchemas(host.configuration.schemas);
  const entryPoints = host.staticConfig.entryPoints as Record<string, Record<string, unknown>>;

  function list(ctx: WharfContext, items: Record<string, unknown>[], fields: readonly string[]): void {
    const query = parseListQuery(new URLSearchParams(ctx.querystring));
    const page = paginate(sortItems(items.filter((item) => keep(item, query, fields)), query), query);
    ctx.set('X-Next-Page', String(page.nextPage));
    json(ctx, 200, page.items);
  }

  function api(ctx: WharfContext, segments: string[]): void {
    const info = host.configuration.runtime();
    const [first, second, third, ...extra] = segments;
    if (first === 'overview' && second === undefined) return json(ctx, 200, overview(info, host.staticConfig));
    if (first === 'version' && second === undefined) return json(ctx, 200, options.version);
    if (first === 'rawdata' && second === undefined) return json(ctx, 200, rawData(info, schemas));
    if (first === 'events' && second === undefined) {
      if (ctx.method === 'GET') return events.subscribe(ctx);
      ctx.status = 200;
      ctx.type = 'text/event-stream';
      return;
    }
    if (first === 'wharf' && second === 'traffic' && third === undefined) return json(ctx, 200, traffic.report());
    if (first === 'entrypoints' && third === undefined) {
      if (second === undefined) {
        const items = Object.keys(entryPoints).map((name) => entryPointRepresentation(name, entryPoints[name] as never, schemas));
        return list(ctx, items, ['name']);
      }
      const name = decodeName(second);
      if (!Object.hasOwn(entryPoints, name)) return json(ctx, 404, { message: `entry point not found: ${name}` });
      return json(ctx, 200, entryPointRepresentation(name, entryPoints[name] as never, schemas));
    }
    if (first === 'certificateresolvers' && third === undefined) {
      if (second === undefined) return list(ctx, [...options.resolvers.values()].map(certificateResolverRepresentation), ['name']);
      const resolver = options.resolvers.get(decodeName(second));
      if (!resolver) return json(ctx, 404, { message: `certificate resolver not found: ${decodeName(second)}` });
      return json(ctx, 200, certificateResolverRepresentation(resolver));
    }
    const section = second === undefined || extra.length > 0 ? undefined : SECTIONS[`${first}/${second}`];
    if (section && Object.hasOwn(SECTIONS, `${first}/${second}`)) {
      const elements = section.elements(info);
      const show = (name: string) => section.present(elements[name] as never, schemas);
      if (third === undefined) return list(ctx, Object.keys(elements).map(show), section.searchIn);
      const name = decodeName(third);
      if (!Object.hasOwn(elements, name)) return json(ctx, 404, { message: `${section.singular} not found: ${name}` });
      return json(ctx, 200, show(name));
    }
    json(ctx, 404, { message: `not found: ${ctx.path}` });
  }

  function dashboard(ctx: WharfContext, file: string): void {
    const asset = assets.get(file === '' ? 'index.html' : file);
    if (!asset) {
      ctx.status = 404;
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = '404 page not found\n';
      return;
    }
    ctx.status = 200;
    ctx.type = asset.type;
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    if (asset.type.startsWith('text/html')) ctx.set('Content-Security-Policy', DASHBOARD_CSP);
    ctx.body = asset.body;
  }

  return function handle(ctx, handleOptions) {
    const path = ctx.path;
    if (path !== base && !path.startsWith(`${base}/`)) return false;
    const rest = path.slice(base.length) || '/';
    const isApi = rest === '/api' || rest.startsWith('/api/');
    const isDashboard = options.dashboard && (rest === '/dashboard' || rest.startsWith('/dashboard/'));
    const isRoot = options.dashboard && handleOptions?.redirectRoot === true && rest === '/';
    if (!isApi && !isDashboard && !isRoot) return false;
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.set('Allow', 'GET, HEAD');
      json(ctx, 405, { message: `method ${ctx.method} not allowed` });
      return true;
    }
    try {
      if (isApi) api(ctx, rest.slice('/api'.length).split('/').filter((s) => s !== ''));
      else if (rest === '/dashboard' || isRoot) redirect(ctx, `${base}/dashboard/`);
      else dashboard(ctx, rest.slice('/dashboard/'.length));
    } catch (err) {
      if (!(err instanceof BadRequest)) throw err;
      json(ctx, 400, { message: err.message });
    }
    return true;
  };
}

function decodeName(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new BadRequest(`invalid request: bad percent-encoding in ${JSON.stringify(segment)}`);
  }
}

function json(ctx: WharfContext, status: number, body: unknown): void {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.type = 'application/json; charset=utf-8';
  ctx.body = JSON.stringify(body);
}

function redirect(ctx: WharfContext, location: string): void {
  ctx.status = 302;
  ctx.set('Location', ctx.querystring ? `${location}?${ctx.querystring}` : location);
  ctx.body = '';
}
