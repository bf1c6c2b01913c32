// The README's process-level plugin example, compiled and tested here (readme.test.ts checks the README shows this file).
import { existsSync } from 'node:fs';
import { definePlugin, Type, type WharfContext, type Next } from '@wharf/core';

export default definePlugin({
  name: 'maintenance',
  schema: Type.Object({}),                                   // no per-router middleware options
  config: {
    static: {                                                // --maintenance.{entryPoint,flagFile}
      schema: Type.Object({
        entryPoint: Type.String({ description: 'Entrypoint to close while the flag file exists.' }),
        flagFile: Type.String({ default: '/run/maintenance', description: 'Its presence means maintenance.' }),
      }),
    },
  },
  setup(config, host) {
    const { entryPoint, flagFile } = config!;                 // validated, defaults filled
    if (!(entryPoint in host.staticConfig.entryPoints)) throw new Error(`maintenance.entryPoint: no entrypoint '${entryPoint}'`);
    let closed = existsSync(flagFile);
    const timer = setInterval(() => (closed = existsSync(flagFile)), 1000);
    host.lifecycle.onStop(() => clearInterval(timer));
    const answer = (ctx: WharfContext) => { ctx.status = 503; ctx.body = 'Down for maintenance\n'; };
    host.entrypoints.use(async (ctx: WharfContext, next: Next) => (closed ? answer(ctx) : next()), { entrypoints: [entryPoint] });
    host.services.provide('maintenance', async (ctx: WharfContext) => answer(ctx));   // maintenance@internal
    host.events.on('reload', (info) => host.log.debug(`${Object.keys(info.routers).length} routers live`));
  },
});
