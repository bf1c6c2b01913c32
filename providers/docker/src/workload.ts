// What the provider serves, engine-independent: a container or a swarm service with its labels, readiness,
// candidate ports and the addresses of its instances (the container itself, or each running task).
import { normalize } from './template.js';

/** One network address of an instance: the IP it has in a named network. */
export interface NetworkAddress {
  network: string;
  ip: string;
}

/** A port published on the host (for useBindPortIP). */
export interface PortBinding {
  port: number;
  /** Set for a UDP port (`53/udp`); TCP otherwise. */
  protocol?: 'udp';
  hostIp: string;
  hostPort: number;
}

/** A container, or one running task of a swarm service. */
export interface Instance {
  id: string;
  /** Set when the instance shares the host's network stack: its address is the host's. */
  hostAddress?: string;
  /** Addresses by network, in preference order for the "first network" default (ingress last). */
  networks: NetworkAddress[];
  bindings: PortBinding[];
}

export interface Workload {
  kind: 'container' | 'service';
  id: string;
  /** Default router and service name: the normalized container name (compose-aware) or service name. */
  name: string;
  /** How messages name it: `container "web-1"`, `service "bank"`. */
  title: string;
  labels: Record<string, string>;
  /** Raw container name (without '/'), for the defaultRule template's .ContainerName. */
  containerName: string;
  /** Running, healthy where a health check exists, and not told to stop. */
  ready: boolean;
  /** Why it is not ready, for the debug log. */
  notReady?: string;
  /** Exposed TCP ports, used when no server.port label is set. */
  ports: number[];
  /** Exposed UDP ports, preferred for UDP services without a server.port label. */
  udpPorts?: number[];
  /** The container itself, or the running tasks of the service. */
  instances: Instance[];
  /** Swarm virtual IPs by network (for <prefix>.swarm.lbswarm=true, or docker.lbswarm). */
  virtualIPs: NetworkAddress[];
}

// ---- The engine objects, reduced to the fields the provider reads (Engine API 1.24+). ----

export interface EngineContainer {
  Id: string;
  Name: string;
  Config?: { Labels?: Record<string, string> | null; ExposedPorts?: Record<string, unknown> | null };
  State?: { Running?: boolean; Paused?: boolean; Restarting?: boolean; Health?: { Status?: string } | null };
  HostConfig?: { NetworkMode?: string };
  NetworkSettings?: {
    Ports?: Record<string, Array<{ HostIp?: string; HostPort?: string }> | null> | null;
    Networks?: Record<string, { IPAddress?: string; NetworkID?: string } | null> | null;
  };
}

export interface EngineService {
  ID: string;
  Spec?: {
    Name?: string;
    Labels?: Record<string, string> | null;
    Mode?: { Replicated?: { Replicas?: number }; Global?: object };
    TaskTemplate?: { Networks?: Array<{ Target?: string }> };
    EndpointSpec?: { Mode?: string; Ports?: Array<{ TargetPort?: number; Protocol?: string }> };
  };
  Endpoint?: {
    Ports?: Array<{ TargetPort?: number; Protocol?: string }>;
    VirtualIPs?: Array<{ NetworkID?: string; Addr?: string }>;
  };
  UpdateStatus?: { State?: string };
}

export interface EngineTask {
  ID: string;
  ServiceID?: string;
  NodeID?: string;
  Slot?: number;
  DesiredState?: string;
  Status?: { State?: string };
  NetworksAttachments?: Array<{
    Network?: { ID?: string; Spec?: { Name?: string }; DriverState?: { Name?: string } };
    Addresses?: string[] | null;
  }>;
}

export interface EngineNetwork {
  Id: string;
  Name: string;
  Driver?: string;
}

export interface EngineNode {
  ID: string;
  Status?: { Addr?: string };
}

const COMPOSE_PROJECT = 'com.docker.compose.project';
const COMPOSE_SERVICE = 'com.docker.compose.service';
/** The address of "the host" for host-network containers, as Traefik uses. */
export const HOST_ADDRESS = '127.0.0.1';

/** Traefik's naming: `<compose service>_<project>` for compose containers, else the container name, normalized. */
export function containerServiceName(name: string, labels: Record<string, string>): string {
  const project = labels[COMPOSE_PROJECT];
  const service = labels[COMPOSE_SERVICE];
  return normalize(project && service ? `${service}_${project}` : name);
}

/**
 * A container as a workload. `others` resolves `container:<id>` network modes; `leaving` is set
 * once a kill/stop event said it is going away, so it stops receiving requests before it is gone.
 */
export function containerWorkload(c: EngineContainer, leaving: boolean, others: (ref: string) => EngineContainer | undefined): Workload {
  const containerName = c.Name.replace(/^\//, '');
  const labels = c.Config?.Labels ?? {};
  const instance = containerInstance(c, others);
  const notReady = containerNotReady(c, leaving);
  return {
    kind: 'container',
    id: c.Id,
    name: containerServiceName(containerName, labels),
    title: `container "${containerName}"`,
    labels,
    containerName,
    ready: notReady === undefined,
    notReady,
    ports: containerPorts(c),
    udpPorts: containerPorts(c, 'udp'),
    instances: [instance],
    virtualIPs: [],
  };
}

function containerNotReady(c: EngineContainer, leaving: boolean): string | undefined {
  const state = c.State ?? {};
  if (leaving) return 'it was told to stop';
  if (!state.Running || state.Paused || state.Restarting) return 'it is not running';
  const health = state.Health?.Status;
  if (health && health !== 'healthy') return `its health check says ${health}`;
  return undefined;
}

function containerInstance(c: EngineContainer, others: (ref: string) => EngineContainer | undefined): Instance {
  const mode = c.HostConfig?.NetworkMode ?? '';
  // network_mode: container:<id> shares another container's network stack, so its addresses are the other's.
  const source = mode.startsWith('container:') ? others(mode.slice('container:'.length)) ?? c : c;
  if (source.HostConfig?.NetworkMode === 'host') return { id: c.Id, hostAddress: HOST_ADDRESS, networks: [], bindings: [] };
  const networks = Object.entries(source.NetworkSettings?.Networks ?? {})
    .map(([network, settings]) => ({ network, ip: settings?.IPAddress ?? '' }))
    .filter((n) => n.ip !== '');
  return { id: c.Id, networks: preferenceOrder(networks), bindings: containerBindings(source) };
}

function containerBindings(c: EngineContainer): PortBinding[] {
  const bindings: PortBinding[] = [];
  for (const [key, list] of Object.entries(c.NetworkSettings?.Ports ?? {})) {
    const port = tcpPort(key) ?? portOf(key, 'udp');
    if (port === undefined) continue;
    const protocol = tcpPort(key) === undefined ? { protocol: 'udp' as const } : {};
    for (const b of list ?? []) {
      const hostPort = Number(b.HostPort);
      if (Number.isInteger(hostPort) && hostPort > 0) bindings.push({ port, hostIp: b.HostIp ?? '', hostPort, ...protocol });
    }
  }
  return bindings;
}

/** Exposed TCP (or UDP) ports: the network settings' ports and the image's EXPOSE (host-network containers only have the latter). */
function containerPorts(c: EngineContainer, protocol: 'tcp' | 'udp' = 'tcp'): number[] {
  const keys = [...Object.keys(c.NetworkSettings?.Ports ?? {}), ...Object.keys(c.Config?.ExposedPorts ?? {})];
  return uniqueSorted(keys.map((key) => portOf(key, protocol)));
}

function tcpPort(key: string): number | undefined {
  return portOf(key, 'tcp');
}

/** `53/udp` → 53 for 'udp'; a key without a protocol is TCP. */
function portOf(key: string, wanted: 'tcp' | 'udp'): number | undefined {
  const [port, protocol = 'tcp'] = key.split('/');
  const n = Number(port);
  return protocol === wanted && Number.isInteger(n) && n > 0 ? n : undefined;
}

/**
 * A swarm service as a workload: its running tasks are its instances. `leavingTasks` holds tasks whose
 * container was told to stop on this node before swarm updated the task.
 */
export function serviceWorkload(
  s: EngineService,
  tasks: readonly EngineTask[],
  networks: ReadonlyMap<string, EngineNetwork>,
  nodes: ReadonlyMap<string, EngineNode>,
  leavingTasks: ReadonlySet<string>,
): Workload {
  const serviceName = s.Spec?.Name ?? s.ID;
  const hostNetworkIds = new Set([...networks.values()].filter((n) => n.Driver === 'host' || n.Name === 'host').map((n) => n.Id));
  const running = tasks.filter((t) => t.Status?.State === 'running' && t.DesiredState === 'running' && !leavingTasks.has(t.ID));
  const instances = running.map((t) => taskInstance(t, hostNetworkIds, nodes));
  return {
    kind: 'service',
    id: s.ID,
    name: normalize(serviceName),
    title: `service "${serviceName}"`,
    labels: s.Spec?.Labels ?? {},
    containerName: serviceName,
    ready: instances.length > 0,
    notReady: instances.length > 0 ? undefined : 'it has no running task',
    ports: uniqueSorted([...(s.Endpoint?.Ports ?? []), ...(s.Spec?.EndpointSpec?.Ports ?? [])].map((p) => ((p.Protocol ?? 'tcp') === 'tcp' ? p.TargetPort : undefined))),
    udpPorts: uniqueSorted([...(s.Endpoint?.Ports ?? []), ...(s.Spec?.EndpointSpec?.Ports ?? [])].map((p) => (p.Protocol === 'udp' ? p.TargetPort : undefined))),
    instances,
    virtualIPs: preferenceOrder(
      (s.Endpoint?.VirtualIPs ?? []).flatMap((v) => {
        const network = networks.get(v.NetworkID ?? '');
        return network && v.Addr ? [{ network: network.Name, ip: stripPrefixLength(v.Addr) }] : [];
      }),
    ),
  };
}

function taskInstance(t: EngineTask, hostNetworkIds: ReadonlySet<string>, nodes: ReadonlyMap<string, EngineNode>): Instance {
  const attachments = t.NetworksAttachments ?? [];
  const onHost = attachments.some(
    (a) => hostNetworkIds.has(a.Network?.ID ?? '') || a.Network?.DriverState?.Name === 'host' || a.Network?.Spec?.Name === 'host',
  );
  if (onHost) return { id: t.ID, hostAddress: nodeAddress(nodes.get(t.NodeID ?? '')), networks: [], bindings: [] };
  const networks = attachments.flatMap((a) => {
    const ip = a.Addresses?.[0];
    return ip ? [{ network: a.Network?.Spec?.Name ?? a.Network?.ID ?? '', ip: stripPrefixLength(ip) }] : [];
  });
  return { id: t.ID, networks: preferenceOrder(networks), bindings: [] };
}

/** A host-network task is reached on its node's address; a single-node swarm often reports 0.0.0.0. */
function nodeAddress(node: EngineNode | undefined): string {
  const addr = node?.Status?.Addr;
  return addr && addr !== '0.0.0.0' && addr !== '::' ? addr : HOST_ADDRESS;
}

/** Networks sorted by name with swarm's ingress last: it carries published ports, not service traffic. */
function preferenceOrder(networks: NetworkAddress[]): NetworkAddress[] {
  return [...networks].sort((a, b) => Number(a.network === 'ingress') - Number(b.network === 'ingress') || a.network.localeCompare(b.network));
}

function stripPrefixLength(cidr: string): string {
  return cidr.replace(/\/\d+$/, '');
}

function uniqueSorted(values: Array<number | undefined>): number[] {
  return [...new Set(values.filter((v): v is number => v !== undefined))].sort((a, b) => a - b);
}
