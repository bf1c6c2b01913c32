// Test backends: small node:http servers on loopback (127.0.0.1:0 unless told otherwise), a plain one for any
// handler and a recording one that echoes what it received; ports where nothing listens.
import { readFileSync } from 'node:fs';
import http, { type IncomingHttpHeaders, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type https from 'node:https';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';

/** An HTTP or HTTPS server (both can drop their connections on close). */
export type AnyHttpServer = http.Server | https.Server;

export interface Listening<S extends AnyHttpServer = http.Server> {
  server: S;
  host: string;
  port: number;
  /** `http://host:port`, `https://…` for a TLS server (IPv6 hosts in brackets). */
  url: string;
  /** Closes the server and every connection it still holds. */
  close(): Promise<void>;
}

export interface ListenOptions {
  /** Default 127.0.0.1; other loopback addresses (127.0.0.2, ::1) work too. */
  host?: string;
  /** Default 0: a free port chosen by the system. */
  port?: number;
}

/** Starts `server` listening (rejecting on EADDRINUSE and the like) and returns where it listens. */
export async function listen<S extends AnyHttpServer>(server: S, options: ListenOptions = {}): Promise<Listening<S>> {
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const scheme = server instanceof tls.Server ? 'https' : 'http';
  return { server, host, port, url: `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`, close: () => closeServer(server) };
}

/** A node:http server answering with `handler`. */
export function startServer(handler: RequestListener, options: ListenOptions = {}): Promise<Listening> {
  return listen(http.createServer(handler), options);
}

/** What a backend saw of one request (the body is counted, not kept, so huge uploads stay cheap). */
export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** Header lines exactly as received, name and value alternating. */
  rawHeaders: string[];
  bodyBytes: number;
  trailers: Record<string, string | undefined>;
  /** Set once the request body ended, or the connection closed before it did. */
  completed: boolean;
  aborted: boolean;
}

/** Answers one request; the default echoes the backend's name and what it received as JSON. */
export type BackendHandler = (req: IncomingMessage, res: ServerResponse, recorded: RecordedRequest) => void;

export interface Backend {
  name: string;
  port: number;
  url: string;
  server: http.Server;
  requests: RecordedRequest[];
  /** Resolves at the next request received (handy to wait until a request reached the backend). */
  nextRequest(): Promise<RecordedRequest>;
  close(): Promise<void>;
}

export interface EchoBody {
  name: string;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  bodyBytes: number;
}

/** Starts a recording backend on 127.0.0.1:0; `handler` decides the answer (default: JSON echo once the body is read). */
export async function startBackend(name: string, handler: BackendHandler = echo(name)): Promise<Backend> {
  const requests: RecordedRequest[] = [];
  let waiters: Array<(r: RecordedRequest) => void> = [];
  const server = http.createServer((req, res) => {
    const recorded = record(req);
    requests.push(recorded);
    const notify = waiters;
    waiters = [];
    for (const w of notify) w(recorded);
    handler(req, res, recorded);
  });
  const { port, url, close } = await listen(server);
  return {
    name,
    port,
    url,
    server,
    requests,
    nextRequest: () => new Promise((resolve) => waiters.push(resolve)),
    close,
  };
}

/** Counts the body and notes trailers and aborts on the recorded entry. */
function record(req: IncomingMessage): RecordedRequest {
  const recorded: RecordedRequest = {
    method: req.method ?? '',
    url: req.url ?? '',
    headers: req.headers,
    rawHeaders: req.rawHeaders,
    bodyBytes: 0,
    trailers: {},
    completed: false,
    aborted: false,
  };
  req.on('data', (chunk: Buffer) => {
    recorded.bodyBytes += chunk.length;
  });
  req.on('end', () => {
    recorded.trailers = { ...req.trailers };
    recorded.completed = true;
  });
  req.on('close', () => {
    if (!recorded.completed) recorded.aborted = true;
  });
  return recorded;
}

/** The default handler: reads the body, then answers 200 with an EchoBody. */
export function echo(name: string): BackendHandler {
  return (req, res, recorded) => {
    req.on('end', () => {
      const body: EchoBody = { name, method: recorded.method, url: recorded.url, headers: recorded.headers, bodyBytes: recorded.bodyBytes };
      const text = JSON.stringify(body);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-backend': name });
      res.end(text);
    });
    req.resume();
  };
}

/** Closes a server and every connection it still holds. */
export function closeServer(server: AnyHttpServer): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Starts several echo backends named by `names`. */
export function startBackends(...names: string[]): Promise<Backend[]> {
  return Promise.all(names.map((n) => startBackend(n)));
}

/**
 * A port that was free a moment ago (listen on 0, close): nothing answers there (connections are refused), and a
 * process told to listen on it can (nothing else took it in between, on loopback, in practice).
 */
export async function closedPort(host = '127.0.0.1'): Promise<number> {
  const { port, close } = await listen(http.createServer(), { host });
  await close();
  return port;
}

/** `closedPort` under the name that reads right when the port is for a process to listen on. */
export const freePort = closedPort;

/**
 * A free port below the kernel's ephemeral range, for a test that listens on one port several times (a CA validating
 * challenges there, gateways started one after another). A port from `freePort` is ephemeral: between two listeners
 * any outgoing connection on the machine may take it as its source port (EADDRINUSE).
 */
export async function stablePort(host = '127.0.0.1'): Promise<number> {
  const ephemeralStart = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  const low = 10_000;
  const high = Number.isFinite(ephemeralStart) && ephemeralStart > low + 1000 ? ephemeralStart : 32_768;
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    try {
      const server = await listen(http.createServer(), { host, port });
      await server.close();
      return port;
    } catch {
      // taken: try another
    }
  }
  throw new Error(`no free port between ${low} and ${high} on ${host}`);
}
