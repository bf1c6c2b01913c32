// Test helpers: backend, redis-server and wharf processes, an arrival clock, and a bounded load generator that counts answers.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { definePlugin, Type, type Next, type WharfContext } from '@wharf/core';
import { stablePort, startServer } from '@wharf/test-helpers';

/** A backend answering 200 `ok` to everything; counts what reached it. */
export async function backend(): Promise<{ url: string; hits: () => number; close(): Promise<void> }> {
  let hits = 0;
  const { url, close } = await startServer((_req, res) => {
    hits++;
    res.setHeader('content-type', 'text/plain');
    res.end('ok');
  });
  return { url, hits: () => hits, close };
}

/**
 * A middleware that notes when requests reach the gateway, per router: the window the limiter really saw,
 * which a loaded host can make differ from when the client sent them.
 */
export function arrivalClock() {
  const windows = new Map<string, { first: number; last: number; count: number }>();
  const plugin = definePlugin({
    name: 'arrivals',
    schema: Type.Object({}),
    create: () =>
      async function arrivals(ctx: WharfContext, next: Next) {
        const now = performance.now();
        const w = windows.get(ctx.wharf.router ?? '');
        if (w) {
          w.last = now;
          w.count++;
        } else windows.set(ctx.wharf.router ?? '', { first: now, last: now, count: 1 });
        await next();
      },
  });
  return {
    plugin,
    /** Seconds from the first to the last arrival on `router` (qualified, e.g. `c0@inline`). */
    seconds: (router: string) => {
      const w = windows.get(router);
      return w ? (w.last - w.first) / 1000 : 0;
    },
    reset: () => windows.clear(),
  };
}

// Children still running when the test process exits (a failed hook, an interrupted run) are killed with it.
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** A throwaway redis-server: no persistence, loopback only; restartable on the same port. */
export class RedisServer {
  private child: ChildProcess | undefined;

  private constructor(readonly port: number, private readonly clusterDir?: string) {}

  /** One server; with `clusterDir`, a cluster-enabled node keeping its nodes.conf there. */
  static async start(clusterDir?: string): Promise<RedisServer> {
    const server = new RedisServer(await stablePort(), clusterDir);
    await server.start();
    return server;
  }

  /** `n` cluster nodes with the slots spread over them (redis-cli --cluster create), as a Redis Cluster. */
  static async cluster(n: number, dir: string): Promise<RedisServer[]> {
    const nodes = await Promise.all(Array.from({ length: n }, () => RedisServer.start(dir)));
    const args = ['--cluster', 'create', ...nodes.map((node) => node.endpoint), '--cluster-replicas', '0', '--cluster-yes'];
    const create = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    create.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    create.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise((r) => create.once('exit', r));
    if (code !== 0 || !out.includes('All 16384 slots covered')) throw new Error(`redis-cli --cluster create failed:\n${out}`);
    return nodes;
  }

  get endpoint(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Starts (again) on the same port; resolves once Redis accepts connections. */
  async start(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'notice'];
    if (this.clusterDir) args.push('--cluster-enabled', 'yes', '--cluster-config-file', `${this.clusterDir}/nodes-${this.port}.conf`);
    const child = track(spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] }));
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const onData = (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('Ready to accept connections')) {
          child.stdout!.off('data', onData);
          child.stdout!.resume();
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.resume();
      child.once('exit', (code) => reject(new Error(`redis-server exited (${code}) before it was ready:\n${out}`)));
      child.once('error', reject);
    });
  }

  /** SIGKILL: the abrupt outage a crashed or partitioned Redis looks like. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  /** SIGSTOP / SIGCONT: a Redis that accepts connections but does not answer. */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  stop(): Promise<void> {
    return this.kill();
  }
}

const WHARF_BIN = new URL('../../../wharf/bin/wharf.js', import.meta.url);

/** `node wharf/bin/wharf.js …` as a child process; `stop()` sends SIGTERM and waits for it to exit. */
export class WharfProcess {
  private output = '';

  private constructor(private readonly child: ChildProcess) {
    child.stdout!.on('data', (c: Buffer) => (this.output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (this.output += c.toString()));
  }

  static start(args: string[]): WharfProcess {
    return new WharfProcess(track(spawn(process.execPath, [WHARF_BIN.pathname, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })));
  }

  /** What it printed so far (its log), for assertions and failure messages. */
  get log(): string {
    return this.output;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    const force = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(force);
  }
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** CPU time (clock ticks, user + system) of each child process of `pid`, read from /proc (Linux). */
export async function childCpuTicks(pid: number): Promise<Map<number, number>> {
  const { readdir, readFile } = await import('node:fs/promises');
  const out = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // Fields after the parenthesised command name: state, ppid, … utime is the 12th, stime the 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) === pid) out.set(Number(entry), Number(fields[11]) + Number(fields[12]));
  }
  return out;
}

/** One GET; `fresh` opens a new connection (so a cluster spreads requests over its workers). */
export function get(url: string, headers: Record<string, string> = {}, fresh = false, agent: http.Agent = keepAlive): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: fresh ? { ...headers, connection: 'close' } : headers, agent: fresh ? false : agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** `n` requests at once; the statuses in the order given. */
export async function volley(url: string, n: number, headers: Record<string, string> = {}): Promise<Answer[]> {
  return Promise.all(Array.from({ length: n }, () => get(url, headers)));
}

export interface LoadOptions {
  /** Offered requests per second: pick it well above the limit. */
  perSecond: number;
  durationMs: number;
  /** Bounds the load: no more requests in flight than this. */
  maxInFlight?: number;
  headers?: Record<string, string>;
  fresh?: boolean;
}

export interface LoadResult {
  sent: number;
  served: number;
  limited: number;
  unavailable: number;
  other: number;
  /**
   * Seconds from the first answer (by then the limiter has seen the first request and made its bucket) to
   * the last request sent: the time the bucket was refilling under load, even if the host stalled at the start.
   */
  seconds: number;
  retryAfter: Set<string>;
}

export interface Load {
  urls: string[];
  options: LoadOptions;
}

/**
 * Offers steady, bounded overloads, each spread round-robin over its `urls`, all at once, and counts the
 * answers. They run in one worker thread so a busy gateway in the test's own event loop cannot bunch the
 * requests they send.
 */
export async function overloads(loads: Load[]): Promise<LoadResult[]> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { loads } });
  try {
    return await new Promise<LoadResult[]>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  } finally {
    await worker.terminate();
  }
}

if (!isMainThread && parentPort && (workerData as { loads?: Load[] })?.loads) {
  const port = parentPort;
  const { loads } = workerData as { loads: Load[] };
  void Promise.all(loads.map((l) => overloadHere(l.urls, l.options))).then((results) => port.postMessage(results));
}

async function overloadHere(urls: string[], options: LoadOptions): Promise<LoadResult> {
  const { perSecond, durationMs, maxInFlight = 32, headers = {}, fresh = false } = options;
  const result: LoadResult = { sent: 0, served: 0, limited: 0, unavailable: 0, other: 0, seconds: 0, retryAfter: new Set() };
  const pending = new Set<Promise<void>>();
  // Its own connections, so loads running side by side do not queue behind each other for sockets.
  const agent = new http.Agent({ keepAlive: true, maxSockets: maxInFlight });
  const start = performance.now();
  let last = start;
  let firstAnswer: number | undefined;
  const count = (answer: Answer) => {
    firstAnswer ??= performance.now();
    if (answer.status === 200) result.served++;
    else if (answer.status === 429) {
      result.limited++;
      result.retryAfter.add(String(answer.headers['retry-after']));
    } else if (answer.status === 503) result.unavailable++;
    else result.other++;
  };
  while (performance.now() - start < durationMs) {
    const due = Math.floor((perSecond * (performance.now() - start)) / 1000) + 1;
    while (result.sent < due && pending.size < maxInFlight) {
      const url = urls[result.sent % urls.length]!;
      result.sent++;
      last = performance.now();
      const p: Promise<void> = get(url, headers, fresh, agent).then(count, () => void result.other++).finally(() => pending.delete(p));
      pending.add(p);
    }
    await sleep(2);
  }
  await Promise.all(pending);
  agent.destroy();
  result.seconds = (last - (firstAnswer ?? start)) / 1000;
  return result;
}

/**
 * Served vs the token-bucket ideal, burst + rate·t, as a relative error. The last requests may reserve
 * tokens up to maxDelay ahead (default: Traefik's, half a token's time up to 500 ms), so t runs to maxDelay
 * past the last request.
 */
export function accuracy(served: number, burst: number, perSecond: number, seconds: number, maxDelayMs = Math.min(500, 500 / perSecond)): { ideal: number; error: number } {
  const ideal = burst + perSecond * (seconds + maxDelayMs / 1000);
  return { ideal, error: (served - ideal) / ideal };
}
