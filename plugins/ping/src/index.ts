// ping: the gateway's own liveness endpoint, answered before any router (or as ping@internal).
import { definePlugin, Type, type WharfContext, type Next } from '@wharf/core';

const staticSchema = Type.Object(
  {
    entryPoint: Type.String({ default: 'traefik', description: 'Entrypoint that answers /ping (default traefik).' }),
    manualRouting: Type.Boolean({ default: false, description: 'Only offer the ping@internal service for your own router (default false).' }),
    terminatingStatusCode: Type.Integer({ minimum: 100, maximum: 599, default: 503, description: 'Status answered while draining after SIGTERM (default 503).' }),
  },
  { additionalProperties: false },
);

export default definePlugin({
  name: 'ping',
  description: 'GET/HEAD /ping answers 200 OK, or terminatingStatusCode while the gateway drains.',
  schema: Type.Object({}, { additionalProperties: false }),
  config: { static: { schema: staticSchema } },
  setup(config, host) {
    const { entryPoint, manualRouting, terminatingStatusCode } = config!;
    const answer = (ctx: WharfContext) => {
      const draining = host.lifecycle.isShuttingDown();
      ctx.status = draining ? terminatingStatusCode : 200;
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = draining ? 'Terminating' : 'OK';
    };
    host.services.provide('ping', async function pingService(ctx: WharfContext) {
      if (ctx.method === 'GET' || ctx.method === 'HEAD') answer(ctx);
      else ctx.status = 405;
    });
    if (manualRouting) return;
    if (!Object.keys(host.staticConfig.entryPoints as object).includes(entryPoint)) {
      throw new Error(`ping.entryPoint: entrypoint '${entryPoint}' does not exist; define it with --entrypoints.${entryPoint}.address=:8080`);
    }
    host.entrypoints.use(
      async function ping(ctx: WharfContext, next: Next) {
        if (ctx.path === '/ping' && (ctx.method === 'GET' || ctx.method === 'HEAD')) return answer(ctx);
        await next();
      },
      { entrypoints: [entryPoint], order: 100 },
    );
  },
});
