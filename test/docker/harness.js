// Shared pieces of the docker provider's tests and benchmarks: loopback backends that say who they are, a gateway
// with a captured log, HTTP helpers, functional deadlines (poll until true), and a bounded keep-alive load.
import { Agent, createServer, request } from 'node:http';
import { pino } from 'pino';
import { startGateway } from 'wharf';
import { EVENTUALLY_TIMEOUT_MS, eventually, listen, sleep } from '@wharf/test-helpers';

// The bench imports sleep from here.
export { sleep };

/** An HTTP server on a loopback address answering `name` (and the path it got) to every request. */
export async function startBackend(name, host = '127.0.0.1', port = 0) {
  const hits = [];
  let closing = false;
  const server = createServer((req, res) => {
    hits.push(Date.now());
    const body = `${name} ${req.url}`;
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body), ...(closing && { connection: 'close' }) });
    res.end(body);
  });
  server.keepAliveTimeout = 30_000;
  // Its own close() below: graceful, unlike listen()'s, so a stopped task finishes what it is serving.
  const { port: bound } = await listen(server, { host, port });
  return {
    name,
    host,
    port: bound,
    hits,
    async close() {
      closing = true;
      const closed = new Promise((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await closed;
    },
  };
}

/** A logger whose lines are kept in memory, so tests can assert what was logged and how often. */
export function captureLog() {
  const lines = [];
  const log = pino({ level: 'info' }, { write: (s) => void lines.push(JSON.parse(s)) });
  return { log, lines };
}

/** A gateway with one entrypoint `web` on 127.0.0.1 and the given provider flags. */
export async function startTestGateway(args) {
  const { log, lines } = captureLog();
  const gateway = await startGateway({ args: ['--entrypoints.web.address=127.0.0.1:0', ...args], log });
  return { gateway, port: gateway.address('web').port, lines, stop: () => gateway.stop() };
}

const agent = new Agent({ keepAlive: false });

/** GET through the gateway with a Host header (on `via`, a fresh connection by default); network errors reject. */
export function get(port, host, path = '/', via = agent) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host }, agent: via }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * The old name and argument order of `eventually` (what first), kept only for test/bench/docker-rollout.js;
 * tests call `eventually` from @wharf/test-helpers.
 */
export function waitFor(what, check, deadlineMs = 5_000, intervalMs = 20) {
  return eventually(check, what, deadlineMs, intervalMs);
}

/** Polls until the gateway answers `host` with 200 and a body passing `accept`; returns the time it took. */
export async function routable(port, host, accept = () => true) {
  const start = Date.now();
  let last;
  try {
    await eventually(async () => {
      last = await get(port, host);
      return last.status === 200 && accept(last.body);
    }, `${host} routable`, EVENTUALLY_TIMEOUT_MS, 10);
  }
  catch (err) {
    throw new Error(`${err.message}; last answer: ${last ? `${last.status} ${last.body.slice(0, 200)}` : 'none'}`, { cause: err });
  }
  return Date.now() - start;
}

/** Polls until `host` answers `status` (404 once its router is gone). */
export async function answers(port, host, status) {
  const start = Date.now();
  await eventually(async () => (await get(port, host)).status === status, `${host} answering ${status}`, EVENTUALLY_TIMEOUT_MS, 10);
  return Date.now() - start;
}

/** A bounded closed-loop load: `concurrency` keep-alive clients on 127.0.0.1 asking for `host` until stopped. */
/** Loads not stopped yet, so a failed test cannot leave one running (see stopAllLoads). */
const running = new Set();

/** Stops every load still running; call from after() so a failing test cannot keep the process alive. */
export async function stopAllLoads() {
  await Promise.all([...running].map((l) => l.stop()));
}

export class Load {
  port;
  host;
  stopped = false;
  latencies = [];
  failures = {};
  byBackend = {};
  requests = 0;
  started = Date.now();
  workers;
  agent;

  constructor(port, host, concurrency) {
    this.port = port;
    this.host = host;
    this.agent = new Agent({ keepAlive: true, maxSockets: concurrency });
    this.workers = Array.from({ length: concurrency }, () => this.worker());
    running.add(this);
  }

  async worker() {
    while (!this.stopped) {
      const t0 = process.hrtime.bigint();
      try {
        const r = await this.once();
        this.requests++;
        this.latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        if (r.status !== 200) this.failures[`HTTP ${r.status}`] = (this.failures[`HTTP ${r.status}`] ?? 0) + 1;
        else {
          const backend = r.body.trim().split(/\s+/)[0];
          this.byBackend[backend] = (this.byBackend[backend] ?? 0) + 1;
        }
      }
      catch (err) {
        this.requests++;
        const code = err.code ?? err.message;
        this.failures[code] = (this.failures[code] ?? 0) + 1;
      }
    }
  }

  once() {
    return get(this.port, this.host, '/', this.agent);
  }

  /** Responses so far from each backend (to see a new one join). */
  served(backend) {
    return this.byBackend[backend] ?? 0;
  }

  async stop() {
    this.stopped = true;
    running.delete(this);
    await Promise.all(this.workers);
    this.agent.destroy();
    const durationMs = Date.now() - this.started;
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const pct = (p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : 0);
    const errors = Object.values(this.failures).reduce((a, b) => a + b, 0);
    return {
      requests: this.requests,
      errors,
      failures: { ...this.failures },
      byBackend: { ...this.byBackend },
      durationMs,
      throughput: Math.round((this.requests / durationMs) * 1000),
      p50: Math.round(pct(50) * 100) / 100,
      p99: Math.round(pct(99) * 100) / 100,
    };
  }
}
