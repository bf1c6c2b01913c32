// Test backends: small node:http servers on 127.0.0.1:0 that record every request they receive.
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

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

/** Starts a recording backend; `handler` decides the answer (default: JSON echo once the body is read). */
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
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    server,
    requests,
    nextRequest: () => new Promise((resolve) => waiters.push(resolve)),
    close: () => closeServer(server),
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
export function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Starts several echo backends named by `names`. */
export function startBackends(...names: string[]): Promise<Backend[]> {
  return Promise.all(names.map((n) => startBackend(n)));
}

/** A port that was free a moment ago (listen on 0, close): nothing answers there. */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await closeServer(server);
  return port;
}
