// Types for emulator.js, which is plain ESM because the test project compiles only e2e/ and bench/*.ts.
export declare const API_VERSION = "1.41";

/** One response the emulator sent (each /events message counts as one), for validation against the spec. */
export interface ServedResponse {
  path: string;
  status: number;
  body: unknown;
}

export interface EmulatorOptions {
  /** Unix socket path; omitted with `tls`, which listens on 127.0.0.1. */
  socketPath?: string;
  tls?: {
    key: Buffer;
    cert: Buffer;
    ca?: Buffer;
    requestCert?: boolean;
  };
}
type Health = 'starting' | 'healthy' | 'unhealthy';

export interface ContainerSpec {
  name: string;
  labels?: Record<string, string>;

  /** `host`, `container:<name>`, or networks by name with the container's IP in each. */
  network?: 'host' | `container:${string}` | Record<string, string>;

  /** Exposed ports (`80` or `80/tcp`), optionally published: `{ '80/tcp': { hostIp, hostPort } }`. */
  ports?: Array<number | string>;
  bindings?: Record<string, {
    hostIp: string;
    hostPort: number;
  }>;
  health?: Health;

  /** Started with --init (the engine then reports HostConfig.Init). */
  init?: boolean;
}

export interface NetworkSpec {
  name: string;
  driver?: string;
  scope?: 'local' | 'swarm';
  subnet?: string;
}

export interface ServiceSpec {
  name: string;
  labels?: Record<string, string>;
  replicas?: number;

  /** Network the tasks attach to (`host` for host networking). */
  network?: string;

  /** Virtual IP on that network (endpoint mode vip). */
  vip?: string;

  /** Published/target ports (EndpointSpec). */
  targetPorts?: number[];
}
interface EmuService {
  id: string;
  spec: Required<Omit<ServiceSpec, 'vip' | 'targetPorts'>> & Pick<ServiceSpec, 'vip' | 'targetPorts'>;
  version: number;
  created: Date;
  updated: Date;
  updateState?: 'updating' | 'completed' | 'paused' | 'rollback_started' | 'rollback_completed';
  updateStarted?: Date;
  updateCompleted?: Date;
  previous?: EmuService['spec'];
}

export type TaskState = 'new' | 'pending' | 'assigned' | 'accepted' | 'preparing' | 'starting' | 'running' | 'complete' | 'shutdown' | 'failed' | 'rejected' | 'remove' | 'orphaned';
interface EmuTask {
  id: string;
  serviceId: string;
  slot: number;
  ip?: string;
  state: TaskState;
  desired: 'running' | 'shutdown' | 'remove';
  version: number;
  created: Date;
  updated: Date;
  containerId: string;
}

export declare class EngineEmulator {
  private readonly options;

  /** Every response sent, in order. */
  readonly served: ServedResponse[];

  /** Requests by path (without query), for tests of what the provider asks. */
  readonly requests: string[];
  private server;
  private readonly sockets;
  private readonly streams;
  private readonly containers;
  private readonly networks;
  private readonly services;
  private readonly tasks;
  private failure;
  private port;
  private constructor();
  static start(options: EmulatorOptions): Promise<EngineEmulator>;

  /** The endpoint to give the provider (`unix:///…` or `tcp://127.0.0.1:port`). */
  get endpoint(): string;

  /** Starts answering (again, after `disconnect`), on the same socket path or port. */
  listen(): Promise<void>;

  /** The engine goes away: connections cut, event streams end, the socket file removed. */
  disconnect(): Promise<void>;
  stop(): Promise<void>;

  /** Answers every request with this error (as a daemon that lost its permissions would), until cleared. */
  fail(status: number | undefined, message?: string): void;
  addNetwork(spec: NetworkSpec): string;
  private network;

  /** Creates and starts a container, sending create, network connect and start events as the engine does. */
  runContainer(spec: ContainerSpec): string;
  setHealth(id: string, health: Health): void;

  /** `docker kill -s <signal>`: the kill event only; the container keeps running until `exit`. */
  kill(id: string, signal?: string): void;

  /** The process exits: die, network disconnect, then stop as `docker stop` reports it. */
  exit(id: string, code?: number): void;
  remove(id: string): void;
  private container;
  private containerNetworks;

  /** Creates a service with `replicas` running tasks at `taskIPs` (host-network tasks need none). */
  createService(spec: ServiceSpec, taskIPs?: string[]): string;

  /** Adds a task (as the orchestrator would during a scale or an update); no event: swarm sends none for tasks. */
  addTask(serviceId: string, task: {
    ip?: string;
    slot?: number;
    state?: TaskState;
  }): string;
  setTaskState(taskId: string, state: TaskState): void;
  setTaskDesiredState(taskId: string, desired: EmuTask['desired']): void;

  /** Running tasks of a service (id, ip) in slot order. */
  tasksOf(serviceId: string): Array<{
    id: string;
    ip?: string;
    state: TaskState;
    desired: string;
  }>;

  /** `docker service update`: new labels and/or an update state, with the service update event. */
  updateService(serviceId: string, change: {
    labels?: Record<string, string>;
    updateState?: EmuService['updateState'];
    replicas?: number;
  }): void;
  removeService(serviceId: string): void;
  private service;
  private task;
  private handle;
  private route;
  private ping;
  private json;
  private headers;
  private openEvents;
  private emit;
  private containerEvent;
  private networkEvent;
  private versionBody;
  private infoBody;
  private containerList;
  private portList;
  private exposed;
  private networkMode;
  private endpointSettings;
  private containerInspect;
  private hostConfig;
  private serviceList;
  private serviceSpec;
  private serviceBody;
  private taskList;
  private taskBody;
  private nodeBody;
  private networkBody;
}

export {};
