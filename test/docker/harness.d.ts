// Types for harness.js, which is plain ESM because the test project compiles only e2e/ and bench/*.ts.
import { type EmbeddedGateway, type Logger } from '@wharf/core';
import type { Truthy } from '@wharf/test-helpers';

export interface Backend {
  name: string;
  host: string;
  port: number;

  /** Arrival times (Date.now()) of every request. */
  hits: number[];

  /** Stops accepting, lets requests in flight finish (answering Connection: close), then closes. */
  close(): Promise<void>;
}

/** An HTTP server on a loopback address answering `name` (and the path it got) to every request. */
export declare function startBackend(name: string, host?: string, port?: number): Promise<Backend>;

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A logger whose lines are kept in memory, so tests can assert what was logged and how often. */
export declare function captureLog(): {
  log: Logger;
  lines: LogLine[];
};

export interface TestGateway {
  gateway: EmbeddedGateway;
  port: number;
  lines: LogLine[];
  stop(): Promise<void>;
}

/** A gateway with one entrypoint `web` on 127.0.0.1 and the given provider flags. */
export declare function startTestGateway(args: string[]): Promise<TestGateway>;

export interface Reply {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** GET through the gateway with a Host header; network errors reject. */
export declare function get(port: number, host: string, path?: string): Promise<Reply>;

/** `eventually(check, what, deadlineMs, intervalMs)` under its old name and argument order, for test/bench only. */
export declare function waitFor<T>(what: string, check: () => Promise<T> | T, deadlineMs?: number, intervalMs?: number): Promise<Truthy<T>>;

/** Polls (generous deadline) until the gateway answers `host` with 200 and a body passing `accept`; returns the time it took. */
export declare function routable(port: number, host: string, accept?: (body: string) => boolean): Promise<number>;

/** Polls until `host` answers `status` (404 once its router is gone). */
export declare function answers(port: number, host: string, status: number): Promise<number>;

export { sleep } from '@wharf/test-helpers';

export interface LoadStats {
  requests: number;
  errors: number;

  /** Error kinds and non-200 statuses with counts. */
  failures: Record<string, number>;

  /** Backend name → responses. */
  byBackend: Record<string, number>;
  durationMs: number;
  throughput: number;
  p50: number;
  p99: number;
}

/** Stops every load still running; call from after() so a failing test cannot keep the process alive. */
export declare function stopAllLoads(): Promise<void>;

export declare class Load {
  private readonly port;
  private readonly host;
  private stopped;
  private readonly latencies;
  private readonly failures;
  private readonly byBackend;
  private requests;
  private readonly started;
  private readonly workers;
  private readonly agent;
  constructor(port: number, host: string, concurrency: number);
  private worker;
  private once;

  /** Responses so far from each backend (to see a new one join). */
  served(backend: string): number;
  stop(): Promise<LoadStats>;
}
