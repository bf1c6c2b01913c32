// Test helpers: raw HTTP requests, a gateway with the access log, a gateway log that can be awaited. Backends,
// closed ports and temp directories come from @wharf/test-helpers.
import http, { type IncomingHttpHeaders } from 'node:http';
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { startGateway, type EmbeddedGateway, type Logger, type Plugin } from '@wharf/core';
import accessLog from './index.js';

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request with exactly the given headers (fetch would add its own), on a fresh connection. */
export function request(url: string, options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers ?? {}, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Non-empty lines of a file ([] when it does not exist). */
export function readLines(path: string): string[] {
  try {
    return readFileSync(path, 'utf8').split('\n').filter((l) => l !== '');
  } catch {
    return [];
  }
}

interface LogRecord {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** The gateway's own log, kept in memory; `waitFor` resolves when a matching record arrives. */
export function memoryLog(): { log: Logger; records: LogRecord[]; waitFor(match: (r: LogRecord) => boolean): Promise<LogRecord> } {
  const records: LogRecord[] = [];
  const waiters: { match: (r: LogRecord) => boolean; resolve: (r: LogRecord) => void }[] = [];
  const stream = {
    write(line: string) {
      const record = JSON.parse(line) as LogRecord;
      records.push(record);
      for (const w of waiters.filter((w) => w.match(record))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(record);
      }
    },
  };
  return {
    log: pino({ level: 'info' }, stream),
    records,
    waitFor(match) {
      const found = records.find(match);
      return found ? Promise.resolve(found) : new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
}

export interface GatewayOptions {
  /** Flags after `--entrypoints.web.address=127.0.0.1:0`, e.g. `--accessLog.format=json`. */
  args: string[];
  dynamic?: unknown;
  plugins?: Plugin[];
  log?: Logger;
}

/** A gateway with the access-log plugin (and the given ones) on entrypoint `web`. */
export async function gateway(options: GatewayOptions): Promise<EmbeddedGateway & { web: string }> {
  const gw = await startGateway({
    plugins: [accessLog, ...(options.plugins ?? [])],
    args: ['--entrypoints.web.address=127.0.0.1:0', ...options.args],
    dynamic: options.dynamic,
    ...(options.log ? { log: options.log } : {}),
  });
  return Object.assign(gw, { web: `http://127.0.0.1:${gw.address('web').port}` });
}

/** One router `name` for every path on `web` to a load balancer over `url`. */
export function route(name: string, url: string, extra: Record<string, unknown> = {}): { http: Record<string, unknown> } {
  return {
    http: {
      routers: { [name]: { rule: 'PathPrefix(`/`)', service: name, ...extra } },
      services: { [name]: { loadBalancer: { servers: [{ url }] } } },
    },
  };
}
