// failover services: the main service while it has a server in rotation, the fallback while it has none
// (Traefik's pkg/server/service/loadbalancer/failover, health from the health-check verdicts); with `errors`, also
// the fallback in place of a main answer whose status is listed.
import type { OutgoingHttpHeaders } from 'node:http';
import { isReplayableBody, replaceRequestBody, type Middleware, type Next, type WharfContext } from '../context.js';
import { wrapResponse, type ResponseWriter } from '../response-writer.js';
import { readUpTo } from './mirror.js';
import { hasRequestBody, respondPlain } from './proxy.js';

export interface FailoverOptions {
  main: Middleware;
  fallback: Middleware;
  /** Whether the main service has a server in rotation, asked per request. */
  isMainUp: () => boolean;
  /** Whether the fallback has one; only with failover.healthCheck (else the fallback is always tried, as Traefik). */
  isFallbackUp?: () => boolean;
  /** failover.errors: main answers with these statuses go to the fallback instead. */
  errors?: { status: readonly string[]; maxRequestBodyBytes?: number };
}

const RESOLVED = Promise.resolve();

/** Switches per request: no timer, no state; a recovered main service gets the next request. */
export function createFailoverHandler(options: FailoverOptions): Middleware {
  const { main, fallback, isMainUp, isFallbackUp } = options;
  const ranges = options.errors === undefined ? [] : parseStatusRanges(options.errors.status);
  const maxBody = options.errors?.maxRequestBodyBytes ?? -1;

  function toFallback(ctx: WharfContext, next: Next): Promise<void> {
    if (isFallbackUp === undefined || isFallbackUp()) return fallback(ctx, next);
    respondPlain(ctx, 503, 'Service Unavailable');
    return RESOLVED;
  }

  if (ranges.length === 0) {
    return function failover(ctx: WharfContext, next: Next): Promise<void> {
      return isMainUp() ? main(ctx, next) : toFallback(ctx, next);
    };
  }

  return async function failover(ctx: WharfContext, next: Next): Promise<void> {
    if (!isMainUp()) return toFallback(ctx, next);
    // The fallback may need to send the request again: its body is held first, as Traefik does.
    if (!(await holdBody(ctx, maxBody))) {
      respondPlain(ctx, 413, 'Request body too large');
      return;
    }
    const hooksAtEntry = ctx.wharf.responseHeaderHooks?.length ?? 0;
    let catcher: StatusCatcher | undefined;
    const unwrap = wrapResponse(ctx, (inner) => (catcher = new StatusCatcher(inner, ranges)));
    try {
      await main(ctx, next);
    } finally {
      unwrap();
    }
    if (!catcher!.caught) return;
    // The main answer is dropped: what the main service prepared for it (its sticky cookie) is too.
    const hooks = ctx.wharf.responseHeaderHooks;
    if (hooks !== undefined) hooks.length = hooksAtEntry;
    ctx.wharf.serviceAnswer = undefined;
    await toFallback(ctx, next);
  };
}

/** Reads the body whole into ctx.wharf.requestBody (unless held already); false when over `max` bytes (−1: no limit). */
async function holdBody(ctx: WharfContext, max: number): Promise<boolean> {
  const held = ctx.wharf.requestBody;
  if (held !== undefined) return isReplayableBody(held) && (max < 0 || held.length <= max);
  if (!hasRequestBody(ctx.req)) return true;
  const { bytes, rest } = await readUpTo(ctx.req, max);
  if (rest) return false;
  replaceRequestBody(ctx, bytes);
  return true;
}

/** Passes the main answer on, unless its status is listed: then it is read and dropped. */
class StatusCatcher implements ResponseWriter {
  caught = false;
  #headersSent = false;

  constructor(
    private readonly inner: ResponseWriter,
    private readonly ranges: ReadonlyArray<readonly [number, number]>,
  ) {}

  get headersSent(): boolean {
    return this.#headersSent || this.inner.headersSent;
  }

  writeHead(status: number, headers: OutgoingHttpHeaders): void {
    this.#headersSent = true;
    this.caught = this.ranges.some(([low, high]) => status >= low && status <= high);
    if (!this.caught) this.inner.writeHead(status, headers);
  }

  write(chunk: Buffer): boolean {
    return this.caught ? true : this.inner.write(chunk);
  }

  end(trailers?: OutgoingHttpHeaders): void {
    if (!this.caught) this.inner.end(trailers);
  }

  abort(error: Error): void {
    if (!this.caught) this.inner.abort(error);
  }

  onceDrain(callback: () => void): void {
    if (this.caught) callback();
    else this.inner.onceDrain(callback);
  }
}

const RANGE = /^\s*(\d{3})\s*(?:-\s*(\d{3})\s*)?$/;

/** `errors.status`: codes or ranges (`500-504`), a comma inside an entry separating several; throws naming the entry. */
export function parseStatusRanges(entries: readonly string[]): Array<readonly [number, number]> {
  const ranges: Array<readonly [number, number]> = [];
  entries.forEach((entry, i) => {
    for (const part of entry.split(',')) {
      const m = RANGE.exec(part);
      if (!m) throw new Error(`failover.errors.status[${i}]: expected a status code or a range such as 502 or 500-504, got ${JSON.stringify(part)}`);
      const low = Number(m[1]);
      const high = m[2] === undefined ? low : Number(m[2]);
      if (low < 100 || high < low) throw new Error(`failover.errors.status[${i}]: expected codes from 100 to 999, low-high, got ${JSON.stringify(part)}`);
      ranges.push([low, high]);
    }
  });
  return ranges;
}
