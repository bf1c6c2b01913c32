// Test harness for the service layer: a tiny Koa gateway on 127.0.0.1 mounting the handler as the core does, and
// clients and servers specific to these tests. Backends and closed ports come from @wharf/test-helpers.
import http, { ServerResponse, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import Koa from 'koa';
import { listen, type Listening } from '@wharf/test-helpers';
import type { Middleware, WharfState } from '../context.js';

/** TCP server that accepts and never says a word (a TLS handshake to it never completes). */
export async function silentTcpServer(): Promise<{ port: number; close(): Promise<void> }> {
  const accepted: Socket[] = [];
  const server = net.createServer((socket) => accepted.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of accepted) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface Gateway extends Listening {
  /** ctx.wharf of every request, in arrival order. */
  states: WharfState[];
  /** Settles when the handler of each request has returned. */
  finished: Promise<void>[];
}

/**
 * The service handler in a Koa app the way the core mounts it: a first middleware fills ctx.wharf,
 * upgrades come through 'upgrade' with a ServerResponse bound to the socket.
 */
export async function startGateway(handler: Middleware, state: Partial<WharfState> = {}): Promise<Gateway> {
  const states: WharfState[] = [];
  const finished: Promise<void>[] = [];
  const heads = new WeakMap<IncomingMessage, Buffer>();
  const app = new Koa();
  // As the entrypoint does: client resets surface through on-finished, they are not test failures.
  app.silent = true;
  app.use(async (ctx, next) => {
    ctx.wharf = {
      entrypoint: 'web',
      startTime: process.hrtime.bigint(),
      clientIP: '127.0.0.1',
      trustForwarded: false,
      router: 'r@test',
      service: 's@test',
      retryAttempts: 0,
      upgradeHead: heads.get(ctx.req),
      ...state,
    };
    states.push(ctx.wharf);
    const done = next();
    finished.push(done.catch(() => undefined));
    await done;
  });
  app.use(handler);
  const callback = app.callback();
  const server = http.createServer(callback);
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const res = new ServerResponse(req);
    res.assignSocket(socket);
    socket.on('error', () => socket.destroy());
    heads.set(req, head);
    void callback(req, res);
  });
  const listening = await listen(server);
  return { ...listening, states, finished };
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  trailers: NodeJS.Dict<string>;
}

export interface RequestOptions {
  method?: string;
  path?: string;
  headers?: http.OutgoingHttpHeaders;
  body?: string | Buffer | Readable;
}

/** One request on a fresh connection; resolves with the whole reply. */
export function request(base: string, options: RequestOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${base}${options.path ?? '/'}`,
      { method: options.method ?? 'GET', headers: options.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), trailers: res.trailers }),
        );
      },
    );
    req.on('error', reject);
    const body = options.body;
    if (body instanceof Readable) body.pipe(req);
    else req.end(body);
  });
}

/** Readable of `total` bytes made of one reused buffer, so the test itself allocates nothing. */
export function generated(total: number, chunkSize = 64 * 1024): Readable {
  const chunk = Buffer.alloc(chunkSize, 0x61);
  let left = total;
  return new Readable({
    read() {
      if (left <= 0) {
        this.push(null);
        return;
      }
      const size = Math.min(chunkSize, left);
      left -= size;
      this.push(size === chunkSize ? chunk : chunk.subarray(0, size));
    },
  });
}

/** Tracks the peak RSS growth while `run` executes. */
export async function peakRssGrowth(run: () => Promise<void>): Promise<number> {
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  try {
    await run();
  } finally {
    clearInterval(sampler);
  }
  return Math.max(peak, process.memoryUsage().rss) - before;
}

export const MiB = 1024 * 1024;
