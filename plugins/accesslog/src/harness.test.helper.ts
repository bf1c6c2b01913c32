// Test helpers: loopback backends, raw HTTP requests, a gateway with the access log, a gateway log that can be awaited.
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startGateway, type EmbeddedGateway, type Logger, type Plugin } from '@wharf/core';
import accessLog from './index.js';

export interface Backend {
  url: string;
  close(): Promise<void>;
}

/** A node:http server on 127.0.0.1:0. */
export async function startBackend(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Backend> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nothing listens on (bound, then released), for 502s. */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

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

/** A temporary directory, removed by the returned cleanup. */
export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-accesslog-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
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
