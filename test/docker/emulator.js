// An Engine API emulator on a unix socket (or TLS on TCP) for what the sandboxed engine cannot show: tasks with
// their own IPs, multi-replica start-first rolling updates, task state changes at chosen moments, socket loss.
// Objects have the keys a real engine (20.10, API 1.41) sends; every response is recorded for spec validation.
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { rmSync } from 'node:fs';

export const API_VERSION = '1.41';

const ENGINE_VERSION = '20.10.24+dfsg1';

const IMAGE = 'wharf-test/busybox:latest';

const IMAGE_ID = `sha256:${'f9ae946ebe4d9e40cf43447b783a83e7518619656e9c6d46629731f3c52ea338'}`;

const NODE_ID = swarmId();

export class EngineEmulator {
  options;

  /** Every response sent, in order. */
  served = [];

  /** Requests by path (without query), for tests of what the provider asks. */
  requests = [];
  server;
  sockets = new Set();
  streams = new Set();
  containers = new Map();
  networks = new Map();
  services = new Map();
  tasks = new Map();
  failure;
  port = 0;

  constructor(options) {
    this.options = options;
    for (const n of [
      { name: 'host', driver: 'host', scope: 'local', subnet: '' },
      { name: 'none', driver: 'null', scope: 'local', subnet: '' },
      { name: 'ingress', driver: 'overlay', scope: 'swarm', subnet: '10.0.0.0/24' },
    ])
      this.addNetwork(n);
  }

  static async start(options) {
    const emulator = new EngineEmulator(options);
    await emulator.listen();
    return emulator;
  }

  /** The endpoint to give the provider (`unix:///…` or `tcp://127.0.0.1:port`). */
  get endpoint() {
    return this.options.socketPath ? `unix://${this.options.socketPath}` : `tcp://127.0.0.1:${this.port}`;
  }

  /** Starts answering (again, after `disconnect`), on the same socket path or port. */
  async listen() {
    const handler = (req, res) => this.handle(req, res);
    const server = this.options.tls
      ? createHttpsServer({ key: this.options.tls.key, cert: this.options.tls.cert, ca: this.options.tls.ca, requestCert: this.options.tls.requestCert ?? false, rejectUnauthorized: this.options.tls.requestCert ?? false }, handler)
      : createHttpServer(handler);
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    if (this.options.socketPath) rmSync(this.options.socketPath, { force: true });
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      if (this.options.socketPath) server.listen(this.options.socketPath, resolve);
      else server.listen(this.port, '127.0.0.1', resolve);
    });
    if (!this.options.socketPath) this.port = server.address().port;
    this.server = server;
  }

  /** The engine goes away: connections cut, event streams end, the socket file removed. */
  async disconnect() {
    const server = this.server;
    this.server = undefined;
    for (const s of this.streams) s.res.destroy();
    this.streams.clear();
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise((resolve) => server.close(() => resolve()));
    if (this.options.socketPath) rmSync(this.options.socketPath, { force: true });
  }

  async stop() {
    await this.disconnect();
  }

  /** Answers every request with this error (as a daemon that lost its permissions would), until cleared. */
  fail(status, message = 'permission denied') {
    this.failure = status === undefined ? undefined : { status, message };
  }
  // ---- networks ----
  addNetwork(spec) {
    const scope = spec.scope ?? (spec.driver === 'overlay' || spec.driver === undefined ? 'swarm' : 'local');
    const id = scope === 'swarm' ? swarmId() : hexId();
    this.networks.set(id, { id, spec: { driver: 'overlay', subnet: '', ...spec, scope }, created: new Date(), version: 1 });
    this.emit({ Type: 'network', Action: 'create', Actor: { ID: id, Attributes: { name: spec.name, type: spec.driver ?? 'overlay' } }, scope: 'local' });
    return id;
  }

  network(name) {
    const found = [...this.networks.values()].find((n) => n.spec.name === name);
    if (!found) throw new Error(`emulator: no network named ${name}`);
    return found;
  }
  // ---- containers ----
  /** Creates and starts a container, sending create, network connect and start events as the engine does. */
  runContainer(spec) {
    const id = hexId();
    const now = new Date();
    this.containers.set(id, { id, spec, created: now, started: now, state: 'running', health: spec.health });
    this.containerEvent(id, 'create');
    for (const name of this.containerNetworks(spec)) this.networkEvent(name, 'connect', id);
    this.containerEvent(id, 'start');
    if (spec.health) this.containerEvent(id, `health_status: ${spec.health}`);
    return id;
  }

  setHealth(id, health) {
    this.container(id).health = health;
    this.containerEvent(id, `health_status: ${health}`);
  }

  /** `docker kill -s <signal>`: the kill event only; the container keeps running until `exit`. */
  kill(id, signal = '15') {
    this.containerEvent(id, 'kill', { signal });
  }

  /** The process exits: die, network disconnect, then stop as `docker stop` reports it. */
  exit(id, code = 0) {
    const c = this.container(id);
    c.state = 'exited';
    this.containerEvent(id, 'die', { exitCode: String(code) });
    for (const name of this.containerNetworks(c.spec)) this.networkEvent(name, 'disconnect', id);
    this.containerEvent(id, 'stop');
  }

  remove(id) {
    this.containerEvent(id, 'destroy');
    this.containers.delete(id);
  }

  container(ref) {
    const c = this.containers.get(ref) ?? [...this.containers.values()].find((x) => x.id.startsWith(ref) || x.spec.name === ref);
    if (!c) throw new Error(`emulator: no container ${ref}`);
    return c;
  }

  containerNetworks(spec) {
    if (spec.network === undefined) return [];
    if (typeof spec.network === 'string') return spec.network === 'host' ? ['host'] : [];
    return Object.keys(spec.network);
  }
  // ---- swarm ----
  /** Creates a service with `replicas` running tasks at `taskIPs` (host-network tasks need none). */
  createService(spec, taskIPs = []) {
    const id = swarmId();
    const now = new Date();
    const full = { labels: {}, replicas: taskIPs.length || 1, network: 'host', ...spec };
    this.services.set(id, { id, spec: full, version: 1, created: now, updated: now });
    this.emit({ Type: 'service', Action: 'create', Actor: { ID: id, Attributes: { name: spec.name } }, scope: 'swarm' });
    const count = full.network === 'host' ? full.replicas : taskIPs.length;
    for (let slot = 1; slot <= count; slot++) this.addTask(id, { ip: taskIPs[slot - 1], slot, state: 'running' });
    return id;
  }

  /** Adds a task (as the orchestrator would during a scale or an update); no event: swarm sends none for tasks. */
  addTask(serviceId, task) {
    const service = this.service(serviceId);
    const id = swarmId();
    const now = new Date();
    const slot = task.slot ?? Math.max(0, ...[...this.tasks.values()].filter((t) => t.serviceId === serviceId).map((t) => t.slot)) + 1;
    this.tasks.set(id, { id, serviceId: service.id, slot, ip: task.ip, state: task.state ?? 'running', desired: 'running', version: 1, created: now, updated: now, containerId: hexId() });
    return id;
  }

  setTaskState(taskId, state) {
    const t = this.task(taskId);
    t.state = state;
    t.version++;
    t.updated = new Date();
  }

  setTaskDesiredState(taskId, desired) {
    const t = this.task(taskId);
    t.desired = desired;
    t.version++;
    t.updated = new Date();
  }

  /** Running tasks of a service (id, ip) in slot order. */
  tasksOf(serviceId) {
    return [...this.tasks.values()].filter((t) => t.serviceId === serviceId).sort((a, b) => a.slot - b.slot).map((t) => ({ id: t.id, ip: t.ip, state: t.state, desired: t.desired }));
  }

  /** `docker service update`: new labels and/or an update state, with the service update event. */
  updateService(serviceId, change) {
    const s = this.service(serviceId);
    const attributes = { name: s.spec.name };
    if (change.labels || change.replicas !== undefined) s.previous = { ...s.spec };
    if (change.labels) s.spec = { ...s.spec, labels: change.labels };
    if (change.replicas !== undefined) {
      attributes['replicas.old'] = String(s.spec.replicas);
      attributes['replicas.new'] = String(change.replicas);
      s.spec = { ...s.spec, replicas: change.replicas };
    }
    if (change.updateState) {
      if (s.updateState) attributes['updatestate.old'] = s.updateState;
      attributes['updatestate.new'] = change.updateState;
      s.updateState = change.updateState;
      if (change.updateState === 'updating') s.updateStarted = new Date();
      else s.updateCompleted = new Date();
    }
    s.version++;
    s.updated = new Date();
    this.emit({ Type: 'service', Action: 'update', Actor: { ID: s.id, Attributes: attributes }, scope: 'swarm' });
  }

  removeService(serviceId) {
    const s = this.service(serviceId);
    this.services.delete(s.id);
    for (const t of [...this.tasks.values()])
      if (t.serviceId === s.id) this.tasks.delete(t.id);
    this.emit({ Type: 'service', Action: 'remove', Actor: { ID: s.id, Attributes: { name: s.spec.name } }, scope: 'swarm' });
  }

  service(ref) {
    const s = this.services.get(ref) ?? [...this.services.values()].find((x) => x.spec.name === ref);
    if (!s) throw new Error(`emulator: no service ${ref}`);
    return s;
  }

  task(id) {
    const t = this.tasks.get(id);
    if (!t) throw new Error(`emulator: no task ${id}`);
    return t;
  }
  // ---- HTTP ----
  handle(req, res) {
    try {
      this.route(req, res);
    }
    catch (err) {
      // A bug here must show up as an answer, not as a request that hangs until the client's timeout.
      this.json(res, req.url ?? '/', 500, { message: `emulator: ${err.stack ?? String(err)}` });
    }
  }

  route(req, res) {
    const url = new URL(req.url ?? '/', 'http://engine');
    const path = url.pathname.replace(/^\/v\d+\.\d+(?=\/)/, '');
    this.requests.push(path);
    if (this.failure) return this.json(res, url.pathname, this.failure.status, { message: this.failure.message });
    if (path === '/_ping') return this.ping(req, res, url.pathname);
    if (req.method !== 'GET') return this.json(res, url.pathname, 404, { message: 'page not found' });
    const filters = parseFilters(url.searchParams.get('filters'));
    const inspect = /^\/containers\/([^/]+)\/json$/.exec(path);
    if (path === '/events') return this.openEvents(res, url.pathname, filters);
    if (path === '/version') return this.json(res, url.pathname, 200, this.versionBody());
    if (path === '/info') return this.json(res, url.pathname, 200, this.infoBody());
    if (path === '/containers/json') return this.json(res, url.pathname, 200, this.containerList(url.searchParams.get('all'), filters));
    if (inspect) {
      const c = [...this.containers.values()].find((x) => x.id === inspect[1] || x.id.startsWith(inspect[1]) || x.spec.name === inspect[1]);
      if (!c) return this.json(res, url.pathname, 404, { message: `No such container: ${inspect[1]}` });
      return this.json(res, url.pathname, 200, this.containerInspect(c));
    }
    if (path === '/services') return this.json(res, url.pathname, 200, this.serviceList(filters));
    if (path === '/tasks') return this.json(res, url.pathname, 200, this.taskList(filters));
    if (path === '/nodes') return this.json(res, url.pathname, 200, [this.nodeBody()]);
    if (path === '/networks') return this.json(res, url.pathname, 200, [...this.networks.values()].map((n) => this.networkBody(n)));
    return this.json(res, url.pathname, 404, { message: 'page not found' });
  }

  ping(req, res, path) {
    res.writeHead(200, { ...this.headers(), 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(req.method === 'HEAD' ? undefined : 'OK');
    this.served.push({ path, status: 200, body: 'OK' });
  }

  json(res, path, status, body) {
    const text = JSON.stringify(body);
    res.writeHead(status, { ...this.headers(), 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
    this.served.push({ path, status, body: JSON.parse(text) });
  }

  headers() {
    return { 'Api-Version': API_VERSION, 'Docker-Experimental': 'false', Ostype: 'linux', Server: `Docker/${ENGINE_VERSION} (linux)` };
  }

  openEvents(res, path, filters) {
    res.writeHead(200, { ...this.headers(), 'Content-Type': 'application/json' });
    res.flushHeaders();
    const stream = { res, types: filters.type ? new Set(filters.type) : undefined };
    stream.path = path;
    this.streams.add(stream);
    res.on('close', () => this.streams.delete(stream));
  }

  emit(event) {
    const nanos = BigInt(Date.now()) * 1000000n;
    const message = { ...event, time: Number(nanos / 1000000000n), timeNano: Number(nanos) };
    const line = JSON.stringify(message);
    for (const stream of this.streams) {
      if (stream.types && !stream.types.has(event.Type)) continue;
      stream.res.write(`${line}\n`);
      this.served.push({ path: stream.path, status: 200, body: JSON.parse(line) });
    }
  }

  containerEvent(id, action, extra = {}) {
    const c = this.container(id);
    const attributes = { ...c.spec.labels, image: IMAGE, name: c.spec.name, ...extra };
    // Container events still carry the pre-1.22 fields status, id and from, as the real engine sends them.
    this.emit({ status: action, id: c.id, from: IMAGE, Type: 'container', Action: action, Actor: { ID: c.id, Attributes: attributes }, scope: 'local' });
  }

  networkEvent(name, action, container) {
    const n = this.network(name);
    this.emit({ Type: 'network', Action: action, Actor: { ID: n.id, Attributes: { container, name, type: n.spec.driver } }, scope: 'local' });
  }
  // ---- bodies, with the keys the real engine sends ----
  versionBody() {
    const details = { ApiVersion: API_VERSION, Arch: 'amd64', BuildTime: '2026-05-07T21:09:36.000000000+00:00', Experimental: 'false', GitCommit: '5d6db84', GoVersion: 'go1.19.8', KernelVersion: '6.1.0', MinAPIVersion: '1.12', Os: 'linux' };
    return {
      Platform: { Name: '' },
      Components: [{ Name: 'Engine', Version: ENGINE_VERSION, Details: details }],
      Version: ENGINE_VERSION,
      ApiVersion: API_VERSION,
      MinAPIVersion: '1.12',
      GitCommit: '5d6db84',
      GoVersion: 'go1.19.8',
      Os: 'linux',
      Arch: 'amd64',
      KernelVersion: '6.1.0',
      BuildTime: '2026-05-07T21:09:36.000000000+00:00',
    };
  }

  infoBody() {
    const running = [...this.containers.values()].filter((c) => c.state === 'running').length;
    return {
      ID: 'WHARF:EMULATOR',
      Containers: this.containers.size,
      ContainersRunning: running,
      ContainersPaused: 0,
      ContainersStopped: this.containers.size - running,
      Images: 1,
      Driver: 'vfs',
      Name: 'wharf-emulator',
      ServerVersion: ENGINE_VERSION,
      OperatingSystem: 'Wharf Engine API emulator',
      OSType: 'linux',
      Architecture: 'x86_64',
      NCPU: 2,
      Swarm: { NodeID: NODE_ID, NodeAddr: '127.0.0.1', LocalNodeState: 'active', ControlAvailable: true, Error: '', RemoteManagers: [{ NodeID: NODE_ID, Addr: '127.0.0.1:2377' }], Nodes: 1, Managers: 1 },
      Warnings: [],
    };
  }

  containerList(all, filters) {
    const showAll = all === '1' || all === 'true';
    return [...this.containers.values()]
      .filter((c) => showAll || c.state !== 'exited')
      .filter((c) => matchLabels(c.spec.labels ?? {}, filters.label) && (!filters.status || filters.status.includes(c.state)) && (!filters.id || filters.id.some((i) => c.id.startsWith(i))))
      .map((c) => ({
      Id: c.id,
      Names: [`/${c.spec.name}`],
      Image: IMAGE,
      ImageID: IMAGE_ID,
      Command: '/bin/busybox httpd -f',
      Created: Math.floor(c.created.getTime() / 1000),
      Ports: this.portList(c),
      Labels: c.spec.labels ?? {},
      State: c.state,
      Status: c.state === 'running' ? `Up 1 second${c.health ? ` (${c.health === 'starting' ? 'health: starting' : c.health})` : ''}` : 'Exited (0) 1 second ago',
      HostConfig: { NetworkMode: this.networkMode(c.spec) },
      NetworkSettings: { Networks: this.endpointSettings(c) },
      Mounts: [],
    }));
  }

  portList(c) {
    return this.exposed(c.spec).map((key) => {
      const [port, type = 'tcp'] = key.split('/');
      const binding = c.spec.bindings?.[key];
      return { ...(binding && { IP: binding.hostIp, PublicPort: binding.hostPort }), PrivatePort: Number(port), Type: type };
    });
  }

  exposed(spec) {
    return (spec.ports ?? []).map((p) => (String(p).includes('/') ? String(p) : `${p}/tcp`));
  }

  networkMode(spec) {
    if (typeof spec.network === 'string') return spec.network;
    return spec.network && Object.keys(spec.network).length > 0 ? Object.keys(spec.network)[0] : 'none';
  }

  endpointSettings(c) {
    const out = {};
    const names = this.containerNetworks(c.spec);
    for (const name of names) {
      const ip = typeof c.spec.network === 'object' ? c.spec.network[name] : '';
      const n = this.network(name);
      out[name] = {
        IPAMConfig: {},
        Links: [],
        Aliases: [],
        NetworkID: n.id,
        EndpointID: hexId(),
        Gateway: '',
        IPAddress: ip,
        IPPrefixLen: ip ? 16 : 0,
        IPv6Gateway: '',
        GlobalIPv6Address: '',
        GlobalIPv6PrefixLen: 0,
        MacAddress: '',
        DriverOpts: {},
      };
    }
    return out;
  }

  containerInspect(c) {
    const ports = {};
    for (const key of this.exposed(c.spec)) {
      const b = c.spec.bindings?.[key];
      ports[key] = b ? [{ HostIp: b.hostIp, HostPort: String(b.hostPort) }] : [];
    }
    const exposedPorts = Object.fromEntries(this.exposed(c.spec).map((k) => [k, {}]));
    const running = c.state === 'running';
    return {
      Id: c.id,
      Created: rfc3339(c.created),
      Path: '/bin/busybox',
      Args: ['httpd', '-f'],
      State: {
        Status: c.state,
        Running: running,
        Paused: c.state === 'paused',
        Restarting: false,
        OOMKilled: false,
        Dead: false,
        Pid: running ? 4242 : 0,
        ExitCode: 0,
        Error: '',
        StartedAt: rfc3339(c.started),
        FinishedAt: '0001-01-01T00:00:00Z',
        ...(c.health && { Health: { Status: c.health, FailingStreak: c.health === 'unhealthy' ? 3 : 0, Log: [] } }),
      },
      Image: IMAGE_ID,
      ResolvConfPath: `/var/lib/docker/containers/${c.id}/resolv.conf`,
      HostnamePath: `/var/lib/docker/containers/${c.id}/hostname`,
      HostsPath: `/var/lib/docker/containers/${c.id}/hosts`,
      LogPath: `/var/lib/docker/containers/${c.id}/${c.id}-json.log`,
      Name: `/${c.spec.name}`,
      RestartCount: 0,
      Driver: 'vfs',
      Platform: 'linux',
      MountLabel: '',
      ProcessLabel: '',
      AppArmorProfile: '',
      ExecIDs: [],
      HostConfig: this.hostConfig(c),
      GraphDriver: { Data: {}, Name: 'vfs' },
      Mounts: [],
      Config: {
        Hostname: c.id.slice(0, 12),
        Domainname: '',
        User: '',
        AttachStdin: false,
        AttachStdout: false,
        AttachStderr: false,
        ...(Object.keys(exposedPorts).length > 0 && { ExposedPorts: exposedPorts }),
        Tty: false,
        OpenStdin: false,
        StdinOnce: false,
        Env: [],
        Cmd: ['httpd', '-f'],
        Image: IMAGE,
        Volumes: {},
        WorkingDir: '',
        Entrypoint: ['/bin/busybox'],
        OnBuild: [],
        Labels: c.spec.labels ?? {},
      },
      NetworkSettings: {
        Bridge: '',
        SandboxID: hexId(),
        HairpinMode: false,
        LinkLocalIPv6Address: '',
        LinkLocalIPv6PrefixLen: 0,
        Ports: ports,
        SandboxKey: `/var/run/docker/netns/${c.id.slice(0, 12)}`,
        SecondaryIPAddresses: [],
        SecondaryIPv6Addresses: [],
        EndpointID: '',
        Gateway: '',
        GlobalIPv6Address: '',
        GlobalIPv6PrefixLen: 0,
        IPAddress: '',
        IPPrefixLen: 0,
        IPv6Gateway: '',
        MacAddress: '',
        Networks: this.endpointSettings(c),
      },
    };
  }

  hostConfig(c) {
    const bindings = Object.fromEntries(Object.entries(c.spec.bindings ?? {}).map(([k, b]) => [k, [{ HostIp: b.hostIp, HostPort: String(b.hostPort) }]]));
    return {
      Binds: [], ContainerIDFile: '', LogConfig: { Type: 'json-file', Config: {} }, NetworkMode: this.networkMode(c.spec), PortBindings: bindings,
      RestartPolicy: { Name: 'no', MaximumRetryCount: 0 }, AutoRemove: false, VolumeDriver: '', VolumesFrom: [], CapAdd: [], CapDrop: [],
      CgroupnsMode: 'host', Dns: [], DnsOptions: [], DnsSearch: [], ExtraHosts: [], GroupAdd: [], IpcMode: 'private', Cgroup: '', Links: [],
      OomScoreAdj: 0, PidMode: '', Privileged: false, PublishAllPorts: false, ReadonlyRootfs: false, SecurityOpt: [], UTSMode: '', UsernsMode: '',
      ShmSize: 67108864, Runtime: 'runc', ConsoleSize: [0, 0], Isolation: '', CpuShares: 0, Memory: 0, NanoCpus: 0, CgroupParent: '',
      BlkioWeight: 0, BlkioWeightDevice: [], BlkioDeviceReadBps: [], BlkioDeviceWriteBps: [], BlkioDeviceReadIOps: [], BlkioDeviceWriteIOps: [],
      CpuPeriod: 0, CpuQuota: 0, CpuRealtimePeriod: 0, CpuRealtimeRuntime: 0, CpusetCpus: '', CpusetMems: '', Devices: [], DeviceCgroupRules: [],
      DeviceRequests: [], KernelMemory: 0, KernelMemoryTCP: 0, MemoryReservation: 0, MemorySwap: 0, MemorySwappiness: 0, OomKillDisable: false,
      PidsLimit: 0, Ulimits: [], CpuCount: 0, CpuPercent: 0, IOMaximumIOps: 0, IOMaximumBandwidth: 0,
      MaskedPaths: ['/proc/asound', '/proc/acpi', '/proc/kcore'], ReadonlyPaths: ['/proc/bus', '/proc/fs'],
      ...(c.spec.init !== undefined && { Init: c.spec.init }),
    };
  }

  serviceList(filters) {
    return [...this.services.values()]
      .filter((s) => (!filters.id || filters.id.some((i) => s.id.startsWith(i))) && (!filters.name || filters.name.some((n) => s.spec.name.startsWith(n))) && matchLabels(s.spec.labels, filters.label))
      .map((s) => this.serviceBody(s));
  }

  serviceSpec(spec) {
    const network = this.network(spec.network);
    return {
      Name: spec.name,
      Labels: spec.labels,
      TaskTemplate: {
        ContainerSpec: { Image: IMAGE, Args: ['httpd', '-f'], Init: false, DNSConfig: {}, Isolation: 'default' },
        Resources: { Limits: {}, Reservations: {} },
        Placement: {},
        Networks: [{ Target: network.id }],
        ForceUpdate: 0,
        Runtime: 'container',
      },
      Mode: { Replicated: { Replicas: spec.replicas } },
      EndpointSpec: { Mode: 'vip', ...(spec.targetPorts && { Ports: spec.targetPorts.map((p) => ({ Protocol: 'tcp', TargetPort: p, PublishMode: 'ingress' })) }) },
    };
  }

  serviceBody(s) {
    const network = this.network(s.spec.network);
    const ports = s.spec.targetPorts?.map((p) => ({ Protocol: 'tcp', TargetPort: p, PublishMode: 'ingress' }));
    return {
      ID: s.id,
      Version: { Index: s.version },
      CreatedAt: rfc3339(s.created),
      UpdatedAt: rfc3339(s.updated),
      Spec: this.serviceSpec(s.spec),
      ...(s.previous && { PreviousSpec: this.serviceSpec(s.previous) }),
      Endpoint: {
        Spec: { Mode: 'vip', ...(ports && { Ports: ports }) },
        ...(ports && { Ports: ports }),
        VirtualIPs: [{ NetworkID: network.id, ...(s.spec.vip && { Addr: `${s.spec.vip}/8` }) }],
      },
      ...(s.updateState && {
        UpdateStatus: {
          State: s.updateState,
          StartedAt: rfc3339(s.updateStarted ?? s.updated),
          ...(s.updateCompleted && s.updateState !== 'updating' && { CompletedAt: rfc3339(s.updateCompleted) }),
          Message: s.updateState === 'updating' ? 'update in progress' : 'update completed',
        },
      }),
    };
  }

  taskList(filters) {
    const serviceIds = filters.service?.map((ref) => [...this.services.values()].find((s) => s.id === ref || s.spec.name === ref)?.id ?? ref);
    return [...this.tasks.values()]
      .filter((t) => (!serviceIds || serviceIds.includes(t.serviceId)) && (!filters['desired-state'] || filters['desired-state'].includes(t.desired)) && (!filters.id || filters.id.some((i) => t.id.startsWith(i))))
      .map((t) => this.taskBody(t));
  }

  taskBody(t) {
    const s = this.services.get(t.serviceId);
    const network = this.network(s.spec.network);
    const spec = this.serviceSpec(s.spec).TaskTemplate;
    const { Runtime: _runtime, ...taskSpec } = spec;
    const running = t.state === 'running';
    return {
      ID: t.id,
      Version: { Index: t.version },
      CreatedAt: rfc3339(t.created),
      UpdatedAt: rfc3339(t.updated),
      Labels: {},
      Spec: taskSpec,
      ServiceID: t.serviceId,
      Slot: t.slot,
      NodeID: NODE_ID,
      Status: {
        Timestamp: rfc3339(t.updated),
        State: t.state,
        Message: running ? 'started' : t.state,
        ContainerStatus: { ContainerID: t.containerId, PID: running ? 4243 : 0, ExitCode: 0 },
        PortStatus: {},
      },
      DesiredState: t.desired,
      NetworksAttachments: [
        {
          Network: {
            ID: network.id,
            Version: { Index: network.version },
            CreatedAt: rfc3339(network.created),
            UpdatedAt: rfc3339(network.created),
            Spec: { Name: network.spec.name, Labels: network.spec.name === 'host' ? { 'com.docker.swarm.predefined': 'true' } : {}, DriverConfiguration: { Name: network.spec.driver }, Scope: 'swarm' },
            DriverState: { Name: network.spec.driver },
            IPAMOptions: { Driver: {} },
          },
          ...(t.ip && { Addresses: [`${t.ip}/8`] }),
        },
      ],
    };
  }

  nodeBody() {
    const now = rfc3339(new Date());
    return {
      ID: NODE_ID,
      Version: { Index: 9 },
      CreatedAt: now,
      UpdatedAt: now,
      Spec: { Labels: {}, Role: 'manager', Availability: 'active' },
      Description: {
        Hostname: 'emulator',
        Platform: { Architecture: 'x86_64', OS: 'linux' },
        Resources: { NanoCPUs: 2_000_000_000, MemoryBytes: 8_000_000_000 },
        Engine: { EngineVersion: ENGINE_VERSION, Plugins: [{ Type: 'Network', Name: 'overlay' }, { Type: 'Network', Name: 'host' }] },
        TLSInfo: { TrustRoot: '', CertIssuerSubject: '', CertIssuerPublicKey: '' },
      },
      Status: { State: 'ready', Addr: '127.0.0.1' },
      ManagerStatus: { Leader: true, Reachability: 'reachable', Addr: '127.0.0.1:2377' },
    };
  }

  networkBody(n) {
    const [subnet, gateway] = n.spec.subnet ? [n.spec.subnet, n.spec.subnet.replace(/\.0\/\d+$/, '.1')] : [];
    return {
      Name: n.spec.name,
      Id: n.id,
      Created: rfc3339(n.created),
      Scope: n.spec.scope,
      Driver: n.spec.driver,
      EnableIPv6: false,
      IPAM: { Driver: 'default', Options: {}, Config: subnet ? [{ Subnet: subnet, Gateway: gateway }] : [] },
      Internal: false,
      Attachable: false,
      Ingress: n.spec.name === 'ingress',
      ConfigFrom: { Network: '' },
      ConfigOnly: false,
      Containers: {},
      Options: {},
      Labels: {},
    };
  }
}

/** Docker's filters parameter: `{"key":["v"]}` or the older `{"key":{"v":true}}`. */
function parseFilters(raw) {
  if (!raw) return {};
  const parsed = JSON.parse(raw);
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, Array.isArray(v) ? v : Object.keys(v).filter((x) => v[x])]));
}

function matchLabels(labels, wanted) {
  return (wanted ?? []).every((w) => {
    const [k, v] = w.split('=', 2);
    return v === undefined ? k in labels : labels[k] === v;
  });
}

function rfc3339(d) {
  return d.toISOString().replace('Z', '000000Z');
}

function hexId() {
  return randomBytes(32).toString('hex');
}

/** Swarm object IDs: 25 lowercase base-36 characters. */
function swarmId() {
  const alphabet = '0123456789abcdefghijklmnopqrstuvwxyz';
  return [...randomBytes(25)].map((b) => alphabet[b % 36]).join('');
}
