// accessLog: one line per request (Traefik's common, genericCLF or json format), on pino-http's request lifecycle.
import { pino } from 'pino';
import { pinoHttp, type HttpLogger } from 'pino-http';
import { definePlugin, messageOf, Type, type Next, type PluginHost, type WharfContext } from '@wharf/core';
import { begin, EXCHANGE, settle, type Exchange, type TrackedResponse } from './exchange.js';
import { compileFields, type FieldPlan } from './fields.js';
import { compileFilter, type LineFilter } from './filters.js';
import { formatCommon, formatGenericCLF } from './format.js';
import { accessLogSchema, entryPointFields, type AccessLogConfig } from './schema.js';
import { OtlpAccessLog } from './otlp.js';
import { AccessLogSink } from './sink.js';

export { accessLogSchema } from './schema.js';
export { logOtlp, logOtlpSchema } from './log-otlp.js';
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

/** Renders Traefik's line for a finished exchange, newline included. */
function lineRenderer(format: AccessLogConfig['format'], fields: FieldPlan): (x: Exchange) => string {
  if (format === 'json') return (x) => `${fields.jsonLine(x, Date.now())}\n`;
  if (format === 'genericCLF') return (x) => `${formatGenericCLF(fields.build(x), x.startMs)}\n`;
  return (x) => `${formatCommon(fields.build(x), x.startMs)}\n`;
}

/** Where a rendered line goes: the file or stdout, the collector (accessLog.otlp), or both with dualOutput. */
function lineDestination(config: AccessLogConfig, sink: AccessLogSink, otlp: OtlpAccessLog | undefined): (x: Exchange, line: string) => void {
  if (otlp === undefined) return (_x, line) => sink.write(line);
  if (!config.dualOutput) return (x, line) => otlp.write(x, line);
  return (x, line) => {
    sink.write(line);
    otlp.write(x, line);
  };
}

/**
 * pino-http owns the request lifecycle: it numbers requests (genReqId = Traefik's RequestCount), waits for
 * the response's 'finish' or 'close' and asks for the level. The line is rendered and handed to the sink
 * right there, and the level returned is always 'silent': pino's own record (its serialiser, formatters and
 * stream hook) is never built. Those callbacks run in a response
 * event: a throw there would take the process down, so the whole line is built under one guard.
 */
function httpLogger(config: AccessLogConfig, sink: AccessLogSink, fields: FieldPlan, scope: Scope, log: PluginHost['log'], inflight: InFlight, write: (x: Exchange, line: string) => void): HttpLogger {
  let requestCount = 0;
  let reported = false;
  const render = lineRenderer(config.format, fields);
  return pinoHttp({
    // Never written to: every level decision below is 'silent'.
    logger: pino({ level: 'info', base: undefined, timestamp: false }, sink),
    genReqId: () => ++requestCount,
    wrapSerializers: false,
    // pino-http binds the request to a per-request child logger; the line carries Traefik's fields instead.
    serializers: { req: () => undefined },
    customLogLevel(_req, res) {
      const x = (res as TrackedResponse)[EXCHANGE];
      if (x === undefined) return 'silent';
      inflight.end();
      try {
        settle(x);
        if (!wanted(x, scope)) return 'silent';
        write(x, render(x));
      } catch (err) {
        if (!reported) log.error({ err }, `access log: cannot build a line (${messageOf(err)}); such requests are not logged`);
        reported = true;
      }
      return 'silent';
    },
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
  config: { static: { key: 'accessLog', schema: accessLogSchema }, entryPoint: entryPointFields },
  setup(config, host) {
    const settings = config!;
    const fields = compileFields(settings.fields, settings.format);
    const scope: Scope = { addInternals: settings.addInternals, entrypointEnabled: entrypointSettings(host), filter: compileFilter(settings.filters) };
    const otlp = settings.otlp === undefined ? undefined : new OtlpAccessLog(settings, host.log);
    // The OTLP attributes are every kept field: capture what the json format would.
    const capture = otlp?.capture ?? fields.capture;
    const sink = new AccessLogSink({ filePath: settings.filePath, bufferingSize: settings.bufferingSize, log: host.log });
    const inflight = new InFlight();
    const logRequest = httpLogger(settings, sink, fields, scope, host.log, inflight, lineDestination(settings, sink, otlp));

    host.entrypoints.use(
      // Not async: koa-compose turns a throw into a rejection, and a promise per request is saved.
      function accessLog(ctx: WharfContext, next: Next) {
        begin(ctx, capture);
        inflight.begin();
        logRequest(ctx.req, ctx.res);
        return next();
      },
      { order: ACCESS_LOG_ORDER },
    );
    host.entrypoints.use(
      function accessLogRoutingMark(ctx: WharfContext, next: Next) {
        const x = (ctx.res as TrackedResponse)[EXCHANGE];
        if (x !== undefined) x.routed = true;
        return next();
      },
      { order: ROUTING_MARK_ORDER },
    );

    const reopen = () => sink.reopen();
    process.on('SIGUSR1', reopen);
    host.lifecycle.onStop(async function closeAccessLog() {
      process.off('SIGUSR1', reopen);
      await inflight.drained(DRAIN_LIMIT_MS);
      await sink.close();
      await otlp?.shutdown();
    });
  },
});
