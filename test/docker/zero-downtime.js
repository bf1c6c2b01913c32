// The zero-downtime scenarios of issue #14 on the real engine (test/docker/stack.sh): a bounded keep-alive load of
// undici clients against gateway replicas on 127.0.0.1 that checks every response, and the engine's own event stream,
// so a scenario can say when each bank task joined or left rotation relative to the engine event that caused it.
// Shared by test/e2e/swarm-stack.test.ts and test/bench/swarm.js. Plain ESM (see zero-downtime.d.ts).
import { spawn } from 'node:child_process';
import { Client } from 'undici';

/** Milliseconds since the epoch with sub-millisecond precision, comparable with the engine's timeNano. */
const now = () => performance.timeOrigin + performance.now();

/**
 * `clients` keep-alive connections spread over `ports` on 127.0.0.1, each sending requests (GET unless `method`) for `host` back to back
 * (as fast as the answers come) until stop(); `query` (e.g. `?delay=20`, which bank waits before answering) is added to each. An answer counts as served when it is a 200 whose JSON names the bank
 * task that served it and echoes the path; anything else (status, body, network error) is a failure, kept with its time.
 */
export class KeepAliveLoad {
  constructor(ports, host, clients = 100, query = '', method = 'GET') {
    this.host = host;
    this.query = query;
    this.method = method;
    this.requests = 0;
    this.latencies = [];
    this.failures = [];
    /** Per bank task (container hostname): count, first and last time (ms) it answered. */
    this.tasks = new Map();
    this.running = true;
    this.started = now();
    this.clients = Array.from({ length: clients }, (_, i) => new Client(`http://127.0.0.1:${ports[i % ports.length]}`, { pipelining: 1, keepAliveTimeout: 60_000 }));
    this.loops = this.clients.map((client, i) => this.loop(client, i));
  }

  async loop(client, index) {
    let n = 0;
    while (this.running) {
      const path = `/load/${index}/${n++}${this.query}`;
      const sent = now();
      try {
        const res = await client.request({ path, method: this.method, headers: { host: this.host } });
        const body = await res.body.text();
        const at = now();
        const task = checkedTask(res.statusCode, body, path);
        this.requests++;
        this.latencies.push(at - sent);
        if (task === undefined) this.failures.push({ at, error: `${res.statusCode} ${body.slice(0, 120)}` });
        else this.served(task, at);
      } catch (err) {
        this.requests++;
        this.failures.push({ at: now(), error: err instanceof Error ? `${err.code ?? ''} ${err.message}`.trim() : String(err) });
      }
    }
  }

  served(task, at) {
    const t = this.tasks.get(task);
    if (t === undefined) this.tasks.set(task, { count: 1, first: at, last: at });
    else {
      t.count++;
      t.last = at;
    }
  }

  /** Stops sending, waits for the answers in flight, closes the connections; returns the figures. */
  async stop() {
    this.running = false;
    await Promise.all(this.loops);
    await Promise.all(this.clients.map((c) => c.close().catch(() => undefined)));
    const seconds = (now() - this.started) / 1000;
    const sorted = this.latencies.slice().sort((a, b) => a - b);
    const pct = (p) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]);
    return {
      requests: this.requests,
      errors: this.failures.length,
      failures: this.failures.slice(0, 10),
      seconds,
      throughput: Math.round(this.requests / seconds),
      p50: round(pct(50)),
      p99: round(pct(99)),
      tasks: Object.fromEntries(this.tasks),
    };
  }
}

/** The bank task named in a valid answer, else undefined. */
function checkedTask(status, body, path) {
  if (status !== 200) return undefined;
  try {
    const answer = JSON.parse(body);
    return typeof answer.task === 'string' && answer.path === path ? answer.task : undefined;
  } catch {
    return undefined;
  }
}

const round = (ms) => Math.round(ms * 10) / 10;

/** `docker events` for containers from now on: [{ at (ms), action, id, service, signal }], until stop(). */
export class EngineEvents {
  constructor(docker, env) {
    this.events = [];
    this.child = spawn(docker, ['events', '--filter', 'type=container', '--format', '{{json .}}'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
    let rest = '';
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) this.add(line);
    });
  }

  add(line) {
    if (line.trim() === '') return;
    const e = JSON.parse(line);
    const attributes = e.Actor?.Attributes ?? {};
    this.events.push({ at: Number(e.timeNano) / 1e6, action: e.Action ?? e.status, id: e.Actor?.ID ?? e.id, service: attributes['com.docker.swarm.service.name'], signal: attributes.signal });
  }

  /** Events of one swarm service's containers with this action (kill events: of this signal when given). */
  of(service, action, signal) {
    return this.events.filter((e) => e.service === service && e.action === action && (signal === undefined || e.signal === signal));
  }

  stop() {
    this.child.kill();
  }
}

/**
 * How fast routing followed the engine: for each container of `service` started during the load, ms from its
 * `start` event to the first answer it gave; for each told to stop (`kill` with SIGTERM), ms from that event to the
 * last answer it gave (negative: it had already left rotation). Bank answers with its container id (12 characters).
 */
export function routingDelays(events, service, stats) {
  const taskOf = (id) => stats.tasks[id.slice(0, 12)];
  const joined = events.of(service, 'start').map((e) => taskOf(e.id) && round(taskOf(e.id).first - e.at)).filter((d) => d !== undefined);
  const left = events.of(service, 'kill', '15').map((e) => taskOf(e.id) && round(taskOf(e.id).last - e.at)).filter((d) => d !== undefined);
  return { joined, left };
}
