// Types for zero-downtime.js, which is plain ESM because the test project compiles only e2e/ and bench/*.ts.
export interface TaskServed {
  count: number;
  /** Times (ms since the epoch) of its first and last answer. */
  first: number;
  last: number;
}

export interface LoadStats {
  requests: number;
  errors: number;
  /** The first 10 failures: time and status/body or network error. */
  failures: Array<{ at: number; error: string }>;
  seconds: number;
  throughput: number;
  p50: number;
  p99: number;
  /** Per bank task (its container id, 12 characters). */
  tasks: Record<string, TaskServed>;
}

/** `clients` keep-alive undici connections over `ports` on 127.0.0.1, GET requests for `host` back to back, every answer checked. */
export declare class KeepAliveLoad {
  constructor(ports: number[], host: string, clients?: number, query?: string, method?: string);
  readonly requests: number;
  readonly tasks: Map<string, TaskServed>;
  stop(): Promise<LoadStats>;
}

export interface EngineEvent {
  at: number;
  action: string;
  id: string;
  service?: string;
  signal?: string;
}

/** `docker events` for containers from now on, until stop(). */
export declare class EngineEvents {
  constructor(docker: string, env: NodeJS.ProcessEnv);
  readonly events: EngineEvent[];
  of(service: string, action: string, signal?: string): EngineEvent[];
  stop(): void;
}

/** ms from each start event to the task's first answer, and from each SIGTERM kill event to its last answer. */
export declare function routingDelays(events: EngineEvents, service: string, stats: LoadStats): { joined: number[]; left: number[] };
