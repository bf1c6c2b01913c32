// examples/traefik-v3 runs as written: its services are created with their deploy labels in the Engine API emulator
// (tasks on loopback addresses; only the server.port labels are replaced by the test backends' ports), Wharf starts
// with the gateway's own flags (listen addresses on 127.0.0.1, the engine endpoint added), and each feature the
// stack relies on is checked through real connections: a one-label wildcard host over HTTPS, gRPC over h2c to the
// tasks, a failover service from the file provider switching both ways, the swarm VIP with lbswarm, and Redis
// through a TCP router.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http, { type Server } from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { parse } from 'yaml';
import { type EmbeddedGateway } from '@wharf/core';
import { startGateway } from 'wharf';
import { EmulatedStack, THROTTLE } from './emulated.js';
import { captureLog } from '@wharf/test/docker/harness.js';
import { eventually, startRedisServer, type RedisServerProcess } from '@wharf/test-helpers';

const EXAMPLE = fileURLToPath(new URL('../../../examples/traefik-v3/', import.meta.url));

interface StackFile {
  services: Record<string, { command?: string[]; deploy?: { replicas?: number; labels?: string[] } }>;
}

const stackFile = parse(readFileSync(join(EXAMPLE, 'stack.yml'), 'utf8')) as StackFile;
const stack = new EmulatedStack('wharf-traefik-v3-');

/** A service's deploy labels, with every `loadbalancer.server.port` replaced by the port its test backend got. */
function labelsOf(service: string, port: number): Record<string, string> {
  const labels = stackFile.services[service]!.deploy!.labels!;
  return Object.fromEntries(
    labels.map((l) => {
      const [key, value] = [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)];
      return [key, key.endsWith('.loadbalancer.server.port') ? String(port) : value];
    }),
  );
}

/** The gateway's command with listen addresses on 127.0.0.1, the dynamic file from the example, and the emulator. */
function gatewayArgs(endpoint: string, accessLog: string): string[] {
  const args = stackFile.services.gateway!.command!.map((arg) => {
    if (/^--entryPoints\.\w+\.address=/i.test(arg)) return arg.replace(/=.*$/, '=127.0.0.1:0');
    if (arg.startsWith('--providers.file.filename=')) return `--providers.file.filename=${join(EXAMPLE, 'dynamic.yml')}`;
    return arg;
  });
  return [...args, `--providers.swarm.endpoint=${endpoint}`, `--accessLog.filePath=${accessLog}`, THROTTLE];
}

/** An HTTP server answering its name; `/health` answers `health.status`. */
async function apiServer(name: string, host: string, port = 0): Promise<{ server: Server; port: number; health: { status: number } }> {
  const health = { status: 200 };
  const server = http.createServer((req, res) => {
    res.statusCode = req.url === '/health' ? health.status : 200;
    res.end(name);
  });
  server.listen(port, host);
  await once(server, 'listening');
  return { server, port: (server.address() as net.AddressInfo).port, health };
}

// A Greeter service without a .proto: JSON messages, which grpc-js carries as any other bytes.
const json = { serialize: (v: unknown) => Buffer.from(JSON.stringify(v)), deserialize: (b: Buffer) => JSON.parse(b.toString()) as unknown };
const GREETER: grpc.ServiceDefinition = {
  SayHello: { path: '/greeter.Greeter/SayHello', requestStream: false, responseStream: false, requestSerialize: json.serialize, requestDeserialize: json.deserialize, responseSerialize: json.serialize, responseDeserialize: json.deserialize, originalName: 'sayHello' },
};
const GreeterClient = grpc.makeGenericClientConstructor(GREETER, 'Greeter');

async function greeterServer(name: string, host: string, port = 0): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  server.addService(GREETER, {
    SayHello: (call: grpc.ServerUnaryCall<{ name: string }, unknown>, done: grpc.sendUnaryData<unknown>) => done(null, { message: `hello ${call.request.name} from ${name}` }),
  });
  const bound = await new Promise<number>((resolve, reject) => server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return { server, port: bound };
}

/** GET over TLS to the websecure entrypoint with SNI and Host `host` (the default certificate is not verified). */
function httpsGet(port: number, host: string, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers: { host }, createConnection: () => tls.connect({ host: '127.0.0.1', port, servername: host, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }) }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The certificate websecure serves for `servername`, as PEM. */
async function servedCertificate(port: number, servername: string): Promise<string> {
  const socket = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false });
  await once(socket, 'secureConnect');
  const der = socket.getPeerCertificate().raw;
  socket.destroy();
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** Sends a RESP command on a fresh connection and returns the first reply line. */
async function redisCommand(port: number, command: string): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  socket.write(`${command}\r\n`);
  let reply = '';
  for await (const chunk of socket) {
    reply += (chunk as Buffer).toString();
    if (reply.includes('\r\n')) break;
  }
  socket.destroy();
  return reply.split('\r\n')[0]!;
}

describe('examples/traefik-v3: a Traefik 3 stack runs unchanged but for the label prefix flag', () => {
  let gateway: EmbeddedGateway;
  let redis: RedisServerProcess;
  const apis: Array<Awaited<ReturnType<typeof apiServer>>> = [];
  const greeters: Array<Awaited<ReturnType<typeof greeterServer>>> = [];
  let standbyPort = 0;
  const port = (entrypoint: string) => gateway.address(entrypoint).port;

  before(async () => {
    const engine = await stack.emulator('v3');
    engine.addNetwork({ name: 'web', driver: 'overlay', scope: 'swarm' });
    const apps = [await apiServer('apps-1', '127.0.9.1')];
    apps.push(await apiServer('apps-2', '127.0.9.2', apps[0]!.port));
    greeters.push(await greeterServer('greeter-1', '127.0.9.11'));
    greeters.push(await greeterServer('greeter-2', '127.0.9.12', greeters[0]!.port));
    apis.push(await apiServer('api-main-1', '127.0.9.21'));
    apis.push(await apiServer('api-main-2', '127.0.9.22', apis[0]!.port));
    // lbswarm: only the service's virtual IP answers; the task address has nothing listening.
    const standby = await apiServer('api-standby', '127.0.9.30');
    standbyPort = standby.port;
    redis = await startRedisServer('127.0.9.40');
    for (const s of [...apps, ...apis, standby]) stack.track({ name: '', host: '', port: s.port, hits: [], close: () => new Promise<void>((r) => s.server.close(() => r())) });

    engine.createService({ name: 'v3_apps', network: 'web', labels: labelsOf('apps', apps[0]!.port) }, ['127.0.9.1', '127.0.9.2']);
    engine.createService({ name: 'v3_greeter', network: 'web', labels: labelsOf('greeter', greeters[0]!.port) }, ['127.0.9.11', '127.0.9.12']);
    engine.createService({ name: 'v3_api-main', network: 'web', labels: labelsOf('api-main', apis[0]!.port) }, ['127.0.9.21', '127.0.9.22']);
    engine.createService({ name: 'v3_api-standby', network: 'web', vip: '127.0.9.30', labels: labelsOf('api-standby', standby.port) }, ['127.0.9.31']);
    engine.createService({ name: 'v3_cache', network: 'web', labels: labelsOf('cache', redis.port) }, ['127.0.9.40']);

    const { log } = captureLog();
    gateway = await startGateway({ args: gatewayArgs(engine.endpoint, join(stack.dir, 'access.log')), log });
    await eventually(() => gateway.info.routers['api@swarm']?.status === 'enabled' && gateway.info.tcp?.routers['cache@swarm']?.status === 'enabled', 'the stack\'s routers built');
  });

  after(async () => {
    await gateway?.stop();
    await Promise.all(greeters.map((g) => g.server.forceShutdown()));
    await redis?.stop();
    await stack.stop();
  });

  it('every router of the stack is enabled, with no error or warning', () => {
    const problems = Object.values(gateway.info.routers).filter((r) => r.status !== 'enabled').map((r) => `${r.name}: ${r.errors?.join('; ')}`);
    assert.deepEqual(problems, []);
    // api-standby labels a service and no router: it gets Traefik's default router on its normalized name.
    assert.deepEqual(Object.keys(gateway.info.routers).sort(), ['api@swarm', 'apps@swarm', 'greeter@swarm', 'v3-api-standby@swarm']);
    assert.equal(gateway.info.routers['v3-api-standby@swarm']!.config!.rule, 'Host(`v3-api-standby`)');
    assert.equal(gateway.info.tcp!.routers['cache@swarm']!.status, 'enabled');
  });

  it('Host(`*.apps.example.com`) serves one label of subdomain over HTTPS, and not two', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const reply = await httpsGet(port('websecure'), 'tenant-a.apps.example.com');
      assert.equal(reply.status, 200);
      seen.add(reply.body);
    }
    assert.deepEqual([...seen].sort(), ['apps-1', 'apps-2'], 'both tasks in rotation');
    assert.equal((await httpsGet(port('websecure'), 'a.b.apps.example.com')).status, 404);
    assert.equal((await httpsGet(port('websecure'), 'apps.example.com')).status, 404);
  });

  it('gRPC over TLS to the gateway reaches the tasks over h2c, balanced per call', async () => {
    const ca = await servedCertificate(port('websecure'), 'grpc.example.com');
    const credentials = grpc.credentials.createSsl(Buffer.from(ca), null, null, { checkServerIdentity: () => undefined });
    const client = new GreeterClient(`127.0.0.1:${port('websecure')}`, credentials, { 'grpc.ssl_target_name_override': 'grpc.example.com', 'grpc.default_authority': 'grpc.example.com' });
    try {
      const call = () => new Promise<string>((resolve, reject) => (client as unknown as { SayHello(r: unknown, cb: (e: Error | null, v?: { message: string }) => void): void }).SayHello({ name: 'wharf' }, (err, v) => (err ? reject(err) : resolve(v!.message))));
      const replies = new Set<string>();
      for (let i = 0; i < 4; i++) replies.add(await call());
      assert.deepEqual([...replies].sort(), ['hello wharf from greeter-1', 'hello wharf from greeter-2']);
    } finally {
      client.close();
    }
  });

  it('the failover service of dynamic.yml answers from api-main, from the standby (its VIP) while api-main is down, and back', async () => {
    const from = async () => (await httpsGet(port('websecure'), 'api.example.com')).body;
    assert.match(await from(), /^api-main-\d$/);
    assert.deepEqual(gateway.info.services['api-standby@swarm']!.config!.loadBalancer!.servers, [{ url: `http://127.0.9.30:${standbyPort}` }], 'lbswarm: the VIP, not the task');
    for (const api of apis) api.health.status = 503;
    await eventually(async () => (await from()) === 'api-standby', 'the standby answering while every api-main task fails its check');
    for (const api of apis) api.health.status = 200;
    await eventually(async () => /^api-main-\d$/.test(await from()), 'api-main answering again');
  });

  it('Redis answers through the TCP router on the redis entrypoint', async () => {
    assert.equal(await redisCommand(port('redis'), 'PING'), '+PONG');
    assert.equal(await redisCommand(port('redis'), 'SET v3 ok'), '+OK');
    assert.equal(await redisCommand(port('redis'), 'GET v3'), '$2');
  });
});
