// The routing step of an entrypoint: match the live configuration's table, then run the router's chain.
import type { Middleware, WharfContext, Next } from '../context.js';
import type { Runtime } from '../runtime/runtime.js';
import { requestFacts } from './request-facts.js';

export interface DispatchOptions {
  entrypoint: string;
  /** The live generation; read once per request so a swap never splits a request across two. */
  current: () => Runtime;
  /** entryPoints.<ep>.http.sanitizePath */
  sanitizePath: boolean;
}

export function createDispatch(options: DispatchOptions): Middleware {
  const { entrypoint, current, sanitizePath } = options;
  return function route(ctx: WharfContext, next: Next): Promise<void> {
    const runtime = current();
    const facts = requestFacts(ctx.req, ctx.wharf.clientIP, { sanitize: sanitizePath });
    const entry = runtime.table(entrypoint)?.match(facts);
    if (!entry) {
      notFound(ctx);
      return Promise.resolve();
    }
    forwardCleanPath(ctx, facts.path, facts.rawQuery);
    const target = entry.value;
    ctx.wharf.router = target.router;
    ctx.wharf.service = target.service;
    if (target.observability) ctx.wharf.observability = target.observability;
    runtime.enter();
    let running: Promise<void>;
    try {
      running = target.chain(ctx, next);
    } catch (err) {
      runtime.leave();
      return Promise.reject(err);
    }
    return running.then(
      () => runtime.leave(),
      (err: unknown) => {
        runtime.leave();
        throw err;
      },
    );
  };
}

/** Traefik's answer when no router matches. */
function notFound(ctx: WharfContext): void {
  ctx.status = 404;
  ctx.type = 'text/plain; charset=utf-8';
  ctx.body = '404 page not found\n';
}

/**
 * The service receives the path the rules saw (dot segments resolved, absolute-form reduced to origin-form),
 * so a router's decision cannot be bypassed by a path the backend would resolve differently.
 */
function forwardCleanPath(ctx: WharfContext, path: string, rawQuery: string): void {
  const url = ctx.req.url ?? '/';
  const q = url.indexOf('?');
  const rawPath = q === -1 ? url : url.slice(0, q);
  if (rawPath !== path) ctx.req.url = rawQuery ? `${path}?${rawQuery}` : path;
}
