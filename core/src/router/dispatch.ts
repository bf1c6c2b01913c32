// The routing step of an entrypoint: match the live configuration's table, then run the router's chain.
import type { TLSSocket } from 'node:tls';
import type { Middleware, WharfContext, Next } from '../context.js';
import type { Runtime } from '../runtime/runtime.js';
import { requestFacts, type RequestFacts } from './request-facts.js';

const RESOLVED = Promise.resolve();

export interface DispatchOptions {
  entrypoint: string;
  /** The live generation; read once per request so a swap never splits a request across two. */
  current: () => Runtime;
  /** entryPoints.<ep>.http.sanitizePath */
  sanitizePath: boolean;
}

export function createDispatch(options: DispatchOptions): Middleware {
  const { entrypoint, current, sanitizePath } = options;
  const factOptions = { sanitize: sanitizePath };
  return function route(ctx: WharfContext, next: Next): Promise<void> {
    const runtime = current();
    const wharf = ctx.wharf;
    const facts = requestFacts(ctx.req, wharf.clientIP, factOptions, wharf.target);
    // Over HTTP/2 req.socket stands for the TLS socket too (Node's proxy), so `encrypted` holds for both protocols.
    const secure = (ctx.req.socket as Partial<TLSSocket> | null)?.encrypted === true;
    const entry = runtime.table(entrypoint, secure)?.match(facts);
    if (!entry) {
      notFound(ctx);
      return RESOLVED;
    }
    forwardCleanPath(ctx, facts);
    const target = entry.value;
    wharf.router = target.router;
    wharf.service = target.service;
    if (target.observability) wharf.observability = target.observability;
    runtime.enter();
    let running: Promise<void>;
    try {
      running = target.chain(ctx, next);
    } catch (err) {
      runtime.leave();
      return Promise.reject(err);
    }
    return running.then(runtime.leaveAfter, runtime.leaveAfterError);
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
function forwardCleanPath(ctx: WharfContext, facts: RequestFacts): void {
  const { targetPath: path, rawQuery } = facts;
  const url = ctx.req.url ?? '/';
  // Already clean (the common case): the target is exactly the path, or the path then '?'.
  if (url.length === path.length ? url === path : url.charCodeAt(path.length) === 0x3f /* '?' */ && url.startsWith(path)) return;
  ctx.req.url = rawQuery ? `${path}?${rawQuery}` : path;
}
