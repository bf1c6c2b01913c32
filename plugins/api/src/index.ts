// api: Traefik's API and a live dashboard, on the `traefik` entrypoint (api.insecure) or as api@internal.
import { createRequire } from 'node:module';
import { definePlugin, Type, type CertificateResolverInfo, type Next, type WharfContext } from '@wharf/core';
import { createApi } from './api.js';
import { loadDashboardAssets } from './assets.js';
import { EventHub } from './events.js';
import { Traffic } from './traffic.js';

export { Traffic, STATUS_CLASSES, type Counts, type TrafficReport, type TrafficSample } from './traffic.js';
export { present, REDACTED } from './present.js';

/** The entrypoint `api.insecure` serves on; created on :8080 when not defined, as Traefik does. */
export const INSECURE_ENTRYPOINT = 'traefik';

/** The `api` static section; its descriptions are the README's option table. */
export const staticSchema = Type.Object(
  {
    insecure: Type.Boolean({
      default: false,
      description: 'Serve the API and dashboard without authentication on the entrypoint `traefik` (created on :8080 when absent). Default false: only a router using the api@internal service exposes them.',
    }),
    dashboard: Type.Boolean({ default: true, description: 'Serve the dashboard at /dashboard/ beside the API (default true).' }),
    basePath: Type.String({ default: '/', pattern: '^/', description: 'Path prefix of /api and /dashboard (default /).' }),
    debug: Type.Optional(Type.Boolean({ description: 'Accepted for compatibility; Wharf has no debug endpoints.' })),
    disableDashboardAd: Type.Optional(Type.Boolean({ description: 'Accepted for compatibility; the dashboard shows no ads.' })),
  },
  { additionalProperties: false },
);

const coreVersion = (createRequire(import.meta.url)('@wharf/core/package.json') as { version: string }).version;

export default definePlugin({
  name: 'api',
  description: 'Traefik API endpoints (/api/...), server-sent events and the dashboard (/dashboard/).',
  schema: Type.Object({}, { additionalProperties: false }),
  config: { static: { schema: staticSchema, entryPoints: (config) => (config.insecure ? [INSECURE_ENTRYPOINT] : []) } },
  setup(config, host) {
    const { insecure, dashboard, basePath } = config!;
    const traffic = new Traffic();
    const events = new EventHub();
    const resolvers = new Map<string, CertificateResolverInfo>();
    host.events.on('certificateResolver', (resolver) => resolvers.set(resolver.name, resolver));
    const handle = createApi({
      host,
      dashboard,
      basePath,
      traffic,
      events,
      assets: dashboard ? loadDashboardAssets() : new Map(),
      resolvers,
      version: { Version: coreVersion, Codename: 'wharf', startDate: new Date().toISOString() },
    });

    // Counts every routed request by router and status class: the only per-request work of the plugin.
    host.entrypoints.use(
      async function apiTraffic(ctx: WharfContext, next: Next) {
        try {
          await next();
        } catch (err) {
          if (ctx.wharf.router !== undefined) traffic.record(ctx.wharf.router, (err as { status?: number }).status ?? 500);
          throw err;
        }
        if (ctx.wharf.router !== undefined) traffic.record(ctx.wharf.router, ctx.respond === false ? ctx.res.statusCode : ctx.status);
      },
      { order: -1000 },
    );

    host.events.on('reload', (info) => {
      traffic.retain(new Set(Object.keys(info.routers)));
      events.broadcast('reload', { generation: info.generation });
    });
    host.events.on('health', (e) => events.broadcast('health', e));
    const timer = setInterval(() => {
      if (host.lifecycle.isShuttingDown()) return events.closeAll();
      const sample = traffic.tick();
      events.broadcast('traffic', sample);
    }, traffic.intervalSeconds * 1000);
    timer.unref();
    host.lifecycle.onStop(() => {
      clearInterval(timer);
      events.closeAll();
    });

    host.services.provide('api', async function apiService(ctx: WharfContext) {
      if (!handle(ctx)) {
        ctx.status = 404;
        ctx.type = 'text/plain; charset=utf-8';
        ctx.body = '404 page not found\n';
      }
    });

    if (!insecure) return;
    const entryPoints = Object.keys(host.staticConfig.entryPoints as object);
    if (!entryPoints.includes(INSECURE_ENTRYPOINT)) {
      throw new Error(`api.insecure: entrypoint '${INSECURE_ENTRYPOINT}' does not exist; define it with --entrypoints.${INSECURE_ENTRYPOINT}.address=:8080`);
    }
    const address = (host.staticConfig.entryPoints as Record<string, { address: string }>)[INSECURE_ENTRYPOINT]!.address;
    host.log.warn(
      { entryPoint: INSECURE_ENTRYPOINT },
      `api.insecure: the API${dashboard ? ' and dashboard are' : ' is'} served WITHOUT authentication on entrypoint ${INSECURE_ENTRYPOINT} (${address}); ` +
        'in production use a router with service api@internal and your own middlewares instead',
    );
    host.entrypoints.use(
      async function apiInsecure(ctx: WharfContext, next: Next) {
        if (!handle(ctx, { redirectRoot: true })) await next();
      },
      { entrypoints: [INSECURE_ENTRYPOINT], order: 200 },
    );
  },
});
