// HTTP clients for the tests: one request with node:http, and raw request bytes over a plain socket.
import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import net from 'node:net';

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  trailers: Record<string, string | undefined>;
}

export interface RequestOptions {
  method?: string;
  path?: string;
  headers?: OutgoingHttpHeaders;
  body?: string | Buffer;
  /** Default: a fresh connection per request (no keep-alive state shared between tests). */
  agent?: http.Agent | false;
  /** Fail when no complete answer came within this time (default 30 s), instead of hanging the test. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** Sends one request to 127.0.0.1:port and reads the whole answer. */
export function request(port: number, options: RequestOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path ?? '/', headers: options.headers, agent: options.agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), trailers: { ...res.trailers } }));
        res.on('error', reject);
      },
    );
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer from 127.0.0.1:${port}${options.path ?? '/'} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** GET with a Host header; the usual way to hit a Host() rule. */
export function get(port: number, path: string, host = 'localhost', headers: OutgoingHttpHeaders = {}): Promise<Reply> {
  return request(port, { path, headers: { host, ...headers } });
}

/** The echo backend's JSON answer. */
export function json<T = Record<string, unknown>>(reply: Reply): T {
  try {
    return JSON.parse(reply.body) as T;
  } catch {
    throw new Error(`expected JSON, got ${reply.status}: ${reply.body.slice(0, 200)}`);
  }
}

/** Writes `bytes` on a new connection and returns everything the server sent until it closed the connection. */
export function rawExchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
  });
}

/** Whether a TCP connection to the port is accepted (false on ECONNREFUSED). */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
