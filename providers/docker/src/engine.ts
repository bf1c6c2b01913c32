// The Engine API as the provider uses it, through dockerode: version negotiation, the few list/inspect calls,
// and the /events stream split into JSON messages. Errors keep dockerode's (code, statusCode) for the caller.
import Docker from 'dockerode';
import type { Readable } from 'node:stream';
import { WharfError } from '@wharf/core';
import type { DockerodeOptions, EngineEndpoint } from './endpoint.js';
import type { EngineContainer, EngineNetwork, EngineNode, EngineService, EngineTask } from './workload.js';

/** Swarm services and tasks appeared in API 1.24; newer versions add nothing the provider reads. */
const MIN_API = [1, 24] as const;
const MAX_API = [1, 47] as const;

export interface EngineEvent {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  /** Old (pre-1.22) field names, still sent by current engines for containers. */
  status?: string;
  id?: string;
}

export type Filters = Record<string, string[]>;

/** The fields of a container list entry the provider reads. */
export interface ContainerSummary {
  Id: string;
  State: string;
  Labels?: Record<string, string> | null;
}

export class EngineClient {
  private constructor(
    /** Negotiated version, e.g. `1.41`. */
    readonly version: string,
    private readonly api: Docker,
    private readonly stream: Docker,
  ) {}

  /** Asks the engine for its API version (unversioned /version) and talks the highest both sides know. */
  static async connect(endpoint: EngineEndpoint, timeoutMs: number): Promise<EngineClient> {
    const probe = new Docker({ ...endpoint.connection, timeout: timeoutMs } as DockerodeOptions);
    const info = (await probe.version()) as { ApiVersion?: string };
    const version = negotiate(info.ApiVersion, endpoint.display);
    const api = new Docker({ ...endpoint.connection, timeout: timeoutMs, version: `v${version}` } as DockerodeOptions);
    // No timeout on the event stream: it is idle for as long as nothing happens.
    const stream = new Docker({ ...endpoint.connection, version: `v${version}` } as DockerodeOptions);
    return new EngineClient(version, api, stream);
  }

  /** Every container, stopped ones included: the provider filters on State and labels. */
  listContainers(): Promise<ContainerSummary[]> {
    return this.api.listContainers({ all: true }) as Promise<ContainerSummary[]>;
  }

  inspectContainer(id: string): Promise<EngineContainer> {
    return this.api.getContainer(id).inspect() as Promise<EngineContainer>;
  }

  listServices(filters?: Filters): Promise<EngineService[]> {
    return this.api.listServices(filters ? { filters } : {}) as Promise<EngineService[]>;
  }

  listTasks(filters: Filters): Promise<EngineTask[]> {
    return this.api.listTasks({ filters }) as Promise<EngineTask[]>;
  }

  listNetworks(): Promise<EngineNetwork[]> {
    return this.api.listNetworks() as Promise<EngineNetwork[]>;
  }

  listNodes(): Promise<EngineNode[]> {
    return this.api.listNodes() as Promise<EngineNode[]>;
  }

  /** Opens /events; `onEvent` gets each message, `onEnd` once when the stream ends or fails. */
  async events(types: string[], signal: AbortSignal, onEvent: (e: EngineEvent) => void, onEnd: (err?: Error) => void): Promise<void> {
    const stream = (await this.stream.getEvents({ filters: { type: types }, abortSignal: signal } as never)) as unknown as Readable;
    let buffer = '';
    let ended = false;
    const end = (err?: Error) => {
      if (ended) return;
      ended = true;
      onEnd(err);
    };
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffer += chunk;
      let newline: number;
      while ((newline = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (line) parseEvent(line, onEvent);
      }
    });
    stream.on('error', (err: Error) => end(err));
    stream.on('end', () => end());
    stream.on('close', () => end());
    signal.addEventListener('abort', () => stream.destroy(), { once: true });
  }
}

function parseEvent(line: string, onEvent: (e: EngineEvent) => void): void {
  let event: EngineEvent;
  try {
    event = JSON.parse(line) as EngineEvent;
  } catch {
    return; // a torn line cannot carry a usable event; the next sync sees the state anyway
  }
  onEvent(event);
}

function negotiate(serverVersion: string | undefined, endpoint: string): string {
  const parsed = /^(\d+)\.(\d+)$/.exec(serverVersion ?? '');
  if (!parsed) throw new WharfError('WHARF_ERR_PROVIDER', `engine at ${endpoint} did not report an API version (got ${JSON.stringify(serverVersion)})`);
  const v = [Number(parsed[1]), Number(parsed[2])] as const;
  if (compare(v, MIN_API) < 0) {
    throw new WharfError('WHARF_ERR_PROVIDER', `engine at ${endpoint} speaks API ${serverVersion}; Wharf needs ${MIN_API.join('.')} or newer`);
  }
  return (compare(v, MAX_API) > 0 ? MAX_API : v).join('.');
}

function compare(a: readonly [number, number], b: readonly [number, number]): number {
  return a[0] - b[0] || a[1] - b[1];
}

/** Whether an API error means "that object is gone" (removed between a list and an inspect). */
export function isNotFound(err: unknown): boolean {
  return (err as { statusCode?: number }).statusCode === 404;
}

/** One line saying why the engine cannot be used, for the outage log. */
export function describeEngineError(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { statusCode?: number; json?: { message?: string } };
  switch (e.code) {
    case 'ENOENT':
      return `the socket does not exist (${e.message})`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied on the socket: run the gateway as a user in the docker group (${e.message})`;
    case 'ECONNREFUSED':
      return `connection refused (${e.message})`;
    default:
      if (e.statusCode) return `the engine answered ${e.statusCode}: ${e.json?.message ?? e.message}`;
      return e.message ?? String(err);
  }
}
