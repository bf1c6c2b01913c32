// accessLog: one line per request (Traefik's common, genericCLF or json format), written through pino-http.
import type { IncomingMessage } from 'node:http';
import { pino } from 'pino';
import { pinoHttp, type HttpLogger } from 'pino-http';
import { definePlugin, Type, type Next, type PluginHost, type WharfContext } from '@wharf/core';
import { begin, EXCHANGE, settle, type Exchange, type TrackedResponse } from './exchange.js';
import { compileFields, type FieldPlan } from './fields.js';
import { compileFilter, type LineFilter } from './filters.js';
import { formatCommon, formatGenericCLF, formatJSON } from './format.js';
import { accessLogSchema, entryPointFields, type AccessLogConfig } from './schema.js';
import { AccessLogSink } from './sink.js';

export { accessLogSchema } from './schema.js';
export { formatCommon, formatGenericCLF, formatJSON } from './format.js';

/** Runs before every other entrypoint middleware, so it sees requests that ping or a limiter answer. */
export const ACCESS_LOG_ORDER = -1000;
// After every entrypoint middleware: reaching it means routing ran, i.e. the request is not internal.
const ROUTING_MARK_ORDER = Number.MAX_SAFE_INTEGER;

/** What the line decision needs besides the filters. */
interface Scope {
  addInternals: boolean;
  /** entryPoints.<ep>.observability.accessLogs, the default for its routers and unmatched requests. */
  entrypointEnabled: ReadonlyMap<string, boolean>;
  filter: LineFilter;
}

/** Whether a finished exchange gets a line: opt-outs first, then internals, then the filters. */
function wanted(x: Exchange, scope: Scope): boolean {
  const w = x.ctx.wharf;
  if (!(w.observability?.accessLogs ?? scope.entrypointEnabled.get(w.entrypoint) ?? true)) return false;
  if (!scope.addInternals && (!x.routed || w.service?.endsWith('@internal'))) return false;
  return scope.filter(x.status, w.retryAttempts, x.durationNs);
}

// At shutdown, connections the gateway just closed still deliver their responses' 'close' a moment later.
const DRAIN_LIMIT_MS = 2000;

/**
 * Requests begun but not yet through pino-http's completion callback, so stopping can wait for their
 * lines: the server reports closed before its last sockets emit 'close' (and so before their responses do).
 */
class InFlight {
  private count = 0;
  private idle: (() => void) | undefined;

  begin(): void {
    this.count++;
  }

  end(): void {
    if (--this.count === 0) this.idle?.();
  }

  /** Resolves once nothing is in flight, or after limitMs (an upgraded socket may outlive the gateway). */
  drained(limitMs: number): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, limitMs);
      timer.unref();
      this.idle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/**
 * pino-http logs the exchange; pino's log formatter renders Traefik's line from it and the streamWrite hook
 * writes that line instead of pino's own (empty) JSON record. Both run synchronously inside one logger
 * call, so one slot carries the line from the first to the second.
 */
function lineLogger(format: AccessLogConfig['format'], sink: AccessLogSink): pino.Logger {
  const render = format === 'json' ? (x: Exchange) => formatJSON(x.fields!, Date.now()) : format === 'genericCLF' ? (x: Exchange) => formatGenericCLF(x.fields!, x.startMs) : (x: Exchange) => formatCommon(x.fields!, x.startMs);
  let rendered = '';
  return pino(
    {
      base: undefined,
      timestamp: false,
      formatters: {
        level: () => ({}),
        log(o) {
          rendered = `${render(o as unknown as Exchange)}\n`;
          return {};
        },
      },
      hooks: { streamWrite: () => rendered },
    },
    sink,
  );
}

/**
 * pino-http owns the request lifecycle: it numbers requests (genReqId = Traefik's RequestCount), waits for
 * the response's 'finish' or 'close', asks for the level ('silent' = no line) and for the object to log.
 * Those callbacks run in a response event: a throw there would take the process down, so the line is
 * built inside the level decision, under one guard.
 */
function httpLogger(config: AccessLogConfig, sink: AccessLogSink, fields: FieldPlan, scope: Scope, log: PluginHost['log'], inflight: InFlight): HttpLogger {
  let requestCount = 0;
  let reported = false;
  const exchangeOf = (res: unknown) => (res as TrackedResponse)[EXCHANGE];
  // pino gets the exchange itself; the log formatters above read its fields (and start time).
  const lineOf = (_req: IncomingMessage, res: unknown) => exchangeOf(res);
  return pinoHttp({
    logger: lineLogger(config.format, sink),
    genReqId: () => ++requestCount,
    wrapSerializers: false,
    // pino-http binds the request to a per-request child logger; the line carries Traefik's fields instead.
    serializers: { req: () => undefined },
    customLogLevel(_req, res) {
      const x = exchangeOf(res);
      if (x === undefined) return 'silent';
      inflight.end();
      try {
        settle(x);
        if (!wanted(x, scope)) return 'silent';
        x.fields = fields.build(x);
        return 'info';
      } catch (err) {
        if (!reported) log.error({ err }, `access log: cannot build a line (${err instanceof Error ? err.message : String(err)}); such requests are not logged`);
        reported = true;
        return 'silent';
      }
    },
    customSuccessObject: lineOf,
    customErrorObject: lineOf,
    customSuccessMessage: () => '',
    customErrorMessage: () => '',
  });
}

function entrypointSettings(host: PluginHost): Map<string, boolean> {
  const entryPoints = host.staticConfig.entryPoints as Record<string, { observability?: { accessLogs?: boolean } }>;
  return new Map(Object.entries(entryPoints).map(([name, ep]) => [name, ep.observability?.accessLogs !== false]));
}

export default definePlugin({
  name: 'accesslog',
  description: "One line per request in Traefik's access-log formats (common, genericCLF, json).",
  schema: Type.Object({}, { additionalProperties: false }),
  staticSchema: accessLogSchema,
  staticKey: 'accessLog',
  entryPointSchema: entryPointFields,
  setup(config, host) {
    const settings = config!;
    const fields = compileFields(settings.fields, settings.format);
    const scope: Scope = { addInternals: settings.addInternals, entrypointEnabled: entrypointSettings(host), filter: compileFilter(settings.filters) };
    const sink = new AccessLogSink({ filePath: settings.filePath, bufferingSize: settings.bufferingSize, log: host.log });
    const inflight = new InFlight();
    const logRequest = httpLogger(settings, sink, fields, scope, host.log, inflight);

    host.useEntrypoint(
      async function accessLog(ctx: WharfContext, next: Next) {
        begin(ctx, fields.capture);
        inflight.begin();
        logRequest(ctx.req, ctx.res);
        await next();
      },
      { order: ACCESS_LOG_ORDER },
    );
    host.useEntrypoint(
      async function accessLogRoutingMark(ctx: WharfContext, next: Next) {
        const x = (ctx.res as TrackedResponse)[EXCHANGE];
        if (x !== undefined) x.routed = true;
        await next();
      },
      { order: ROUTING_MARK_ORDER },
    );

    const reopen = () => sink.reopen();
    process.on('SIGUSR1', reopen);
    host.onStop(async function closeAccessLog() {
      process.off('SIGUSR1', reopen);
      await inflight.drained(DRAIN_LIMIT_MS);
      await sink.close();
    });
  },
});
