// errors: answers a caught status (a range of codes) with a page fetched from another service, keeping the status,
// as Traefik's errors middleware — for upstream answers and for Wharf's own 502/503/504 (a maintenance page while
// a service has no healthy server).
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import {
  definePlugin,
  MapOf,
  messageOf,
  StringList,
  Type,
  wrapResponse,
  type Logger,
  type Middleware,
  type Next,
  type PluginContext,
  type ResponseWriter,
  type Static,
  type WharfContext,
} from '@wharf/core';
import { inRanges, parseRewrites, parseStatus, rewrite, type StatusRanges, type StatusRewrite } from './codes.js';
import { compileQuery, queryEscape, requestURL, type PageTarget } from './query.js';
import { Catcher, StatusWriter } from './writers.js';

export { parseRange, parseStatus, parseRewrites, inRanges, rewrite } from './codes.js';
export { compileQuery, queryEscape, requestURL } from './query.js';

export const schema = Type.Object(
  {
    status: StringList({
      default: [],
      description: 'Statuses answered with the error page: codes and inclusive ranges, e.g. 500, 404,418 or 500-599 (default none).',
    }),
    service: Type.String({
      minLength: 1,
      description: "Service serving the error pages: `name` (in this middleware's provider) or `name@provider`. Required.",
    }),
    query: Type.String({
      default: '',
      description: 'Path and query of the page on the service, with {status}, {originalStatus} and {url} (the escaped request URL) filled in, e.g. /{status}.html (default empty: /).',
    }),
    statusRewrites: Type.Optional(
      MapOf(Type.Integer({ minimum: 100, maximum: 999 }), {
        description: 'Status the client gets instead of a caught one: a code or range mapped to a code, e.g. "418": 404, "502-504": 500 ({status} is the new code, {originalStatus} the caught one).',
      }),
    ),
    errorRequestHeaders: Type.Optional(
      StringList({
        description: 'Request headers sent on to the error page service. Not set: all of them (Authorization and Cookie included); an empty list: none. Host is always sent.',
      }),
    ),
  },
  { additionalProperties: false },
);

export type ErrorsConfig = Static<typeof schema>;

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Everything the options say, checked and precomputed; throws naming the field. */
interface Plan {
  ranges: StatusRanges;
  rewrites: StatusRewrite[];
  target: PageTarget;
  /** Turns the client's request headers into the page request's, in place. */
  filterHeaders: (headers: IncomingHttpHeaders) => void;
}

function plan(options: ErrorsConfig): Plan {
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (/[\s\x00-\x1f\x7f]/.test(options.query)) throw new Error(`query: must not contain spaces or control characters (escape them, e.g. %20), got ${JSON.stringify(options.query)}`);
  const names = options.errorRequestHeaders;
  names?.forEach((name, i) => {
    if (!HEADER_NAME.test(name)) throw new Error(`errorRequestHeaders[${i}]: not a header name, got ${JSON.stringify(name)}`);
  });
  return {
    ranges: parseStatus(options.status),
    rewrites: parseRewrites(options.statusRewrites ?? {}),
    target: compileQuery(options.query),
    filterHeaders: names === undefined ? keepAll : keepOnly(new Set(names.map((n) => n.toLowerCase()))),
  };
}

/** What a page request never carries over: it is a GET without a body, not a protocol switch. */
const NOT_FOR_PAGE = ['content-length', 'transfer-encoding', 'upgrade'] as const;

// In place: an HTTP/2 request's headers object cannot be replaced.
function keepAll(headers: IncomingHttpHeaders): void {
  for (const name of NOT_FOR_PAGE) delete headers[name];
}

/** Only the listed headers; Host always (Traefik puts it in the page request's URL), and HTTP/2 pseudo-headers. */
function keepOnly(names: ReadonlySet<string>): (headers: IncomingHttpHeaders) => void {
  return (headers) => {
    for (const name of Object.keys(headers)) {
      if (name !== 'host' && !name.startsWith(':') && !names.has(name)) delete headers[name];
    }
    keepAll(headers);
  };
}

function pageService(context: PluginContext, reference: string): Middleware {
  try {
    return context.service(reference);
  } catch (err) {
    throw new Error(`service: ${messageOf(err)}`, { cause: err });
  }
}

const RESOLVED = Promise.resolve();
const endOfChain = (): Promise<void> => RESOLVED;

/**
 * The status a chain answered with when it is caught: a held answer (proxied, or Wharf's own 502/503/504), or one
 * made through the Koa API (`ctx.status`) that Wharf is about to write.
 */
function caughtStatus(ctx: WharfContext, catcher: Catcher, ranges: StatusRanges): number | undefined {
  if (catcher.held) return catcher.status;
  if (catcher.headersSent || ctx.respond === false || ctx.res.headersSent) return undefined;
  // res.statusCode is what ctx.status reads, without building Koa's request/response pair.
  const status = ctx.res.statusCode;
  return inRanges(ranges, status) ? status : undefined;
}

/** Koa's answer to a thrown error: its `status` (or `statusCode`) when it is an error status, else 500. */
function thrownStatus(err: unknown): number {
  const e = (err ?? {}) as { status?: unknown; statusCode?: unknown };
  const status = typeof e.status === 'number' ? e.status : e.statusCode;
  return typeof status === 'number' && status >= 400 && status <= 599 ? status : 500;
}

/**
 * Forgets what the chain prepared for the caught answer: its response header hooks (a headers middleware inside
 * this one edits the caught answer, not the page, as in Traefik) and the headers set for a Koa answer (its type
 * and length would describe the wrong body). Connection is kept: it says whether the connection stays open.
 */
function dropCaughtAnswer(ctx: WharfContext, hooksAtEntry: number): void {
  const hooks = ctx.wharf.responseHeaderHooks;
  if (hooks !== undefined) hooks.length = hooksAtEntry;
  for (const name of ctx.res.getHeaderNames()) if (name !== 'connection') ctx.res.removeHeader(name);
}

/**
 * The client connection. undici sets `req.socket` to null when it destroys a request body it has sent (its
 * util.destroy); the page request is sent on behalf of the same connection, and the proxy reads it (TLS →
 * X-Forwarded-Proto).
 */
function connectionOf(ctx: WharfContext): Socket | null {
  return ctx.req.socket ?? ctx.res.socket;
}

export default definePlugin({
  name: 'errors',
  description: 'Answer chosen error statuses with a page from another service, keeping the status.',
  schema,
  validate(options) {
    plan(options);
  },
  create(options, context) {
    const { ranges, rewrites, target, filterHeaders } = plan(options);
    const page = pageService(context, options.service);
    const log: Logger = context.log;

    /** Fetches the page for a caught status and sends it with that status (or its rewrite). */
    async function servePage(ctx: WharfContext, caught: number, entryTarget: string, hooksAtEntry: number): Promise<void> {
      const status = rewrite(rewrites, caught);
      const req = ctx.req;
      const socket = connectionOf(ctx);
      if (socket === null) return; // the client is gone: nobody to send a page to
      const url = target(status, caught, () => queryEscape(requestURL((socket as Partial<TLSSocket>).encrypted === true, req.headers, entryTarget)));
      log.debug({ status: caught, rewritten: status, page: url }, 'caught an error status; answering with the error page');
      // The page request is the client's request made a GET for the page: Traefik copies its headers the same way.
      // (The proxy step gives a request whose body undici destroyed its connection back before sending it again.)
      req.method = 'GET';
      filterHeaders(req.headers);
      req.url = url;
      dropCaughtAnswer(ctx, hooksAtEntry);
      wrapResponse(ctx, (inner: ResponseWriter) => new StatusWriter(inner, status));
      await page(ctx, endOfChain);
    }

    // wrapResponse calls its callback at once: the catcher it makes is picked up right after, with no closure per request.
    let made: Catcher | undefined;
    const makeCatcher = (inner: ResponseWriter): Catcher => (made = new Catcher(inner, ranges));

    return async function errors(ctx: WharfContext, next: Next): Promise<void> {
      const entryTarget = ctx.req.url ?? '/';
      const hooksAtEntry = ctx.wharf.responseHeaderHooks?.length ?? 0;
      const unwrap = wrapResponse(ctx, makeCatcher);
      const catcher = made!;
      let caught: number | undefined;
      try {
        await next();
        caught = caughtStatus(ctx, catcher, ranges);
      } catch (err) {
        // ctx.throw(503) or a failing middleware: Koa would answer with the status; the page replaces that answer.
        caught = catcher.headersSent || ctx.res.headersSent ? undefined : thrownStatus(err);
        if (caught === undefined || !inRanges(ranges, caught)) throw err;
        if (caught === 500) log.error({ err }, 'a middleware failed; answering with the error page');
      }
      if (caught === undefined) return;
      unwrap();
      await servePage(ctx, caught, entryTarget, hooksAtEntry);
    };
  },
});
