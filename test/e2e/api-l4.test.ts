// TCP and UDP in the API (Traefik's pkg/api handler_tcp.go / handler_udp.go shapes): lists with search, status,
// pagination and sorting, single elements, 404s, overview counts and rawdata keys, from a started gateway whose
// TCP and UDP routers carry real traffic.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { defineConnectionMiddleware, definePlugin, Duration, Secret, Type, type EmbeddedGateway } from '@wharf/core';
import { startGateway } from 'wharf';
import { eventually, request } from '@wharf/test-helpers';

const SECRET_TOKEN = 'tcp-s3cr3t';

/** A TCP middleware with a secret and a duration: what the API must hide and print as Traefik does. */
const schema = Type.Object({ token: Secret({ description: 'never shown' }), grace: Duration({ default: '30s' }) }, { additionalProperties: false });
const tcpVault = definePlugin({
  name: 'tcpVault',
  schema,
  tcp: defineConnectionMiddleware({ schema, create: () => (connection, next) => next(connection) }),
});

// API answers are read field by field in the assertions, which check their shapes.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

async function get(port: number, path: string): Promise<{ status: number; headers: Record<string, unknown>; json: Json }> {
  const reply = await request(port, { path, headers: { host: '127.0.0.1' } });
  return { status: reply.status, headers: reply.headers, json: JSON.parse(reply.body) as Json };
}

async function tcpEcho(): Promise<net.Server> {
  const server = net.createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

async function udpEcho(): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (message, peer) => socket.send(message, peer.port, peer.address));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return socket;
}

/** Sends a line through a TCP entrypoint and resolves with what comes back. */
function throughTcp(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(line));
    socket.once('data', (data) => {
      resolve(data.toString());
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

/** Sends a datagram through a UDP entrypoint; a lost one rejects after a while so that `eventually` sends again. */
function throughUdp(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    const retry = setTimeout(() => {
      socket.close();
      reject(new Error('no answer yet'));
    }, 2000);
    socket.once('message', (message) => {
      clearTimeout(retry);
      resolve(message.toString());
      socket.close();
    });
    socket.once('error', reject);
    socket.send(text, port, '127.0.0.1');
  });
}

describe('api: TCP and UDP routers, services and middlewares', () => {
  let echo: net.Server;
  let udp: dgram.Socket;
  let echoAddress: string;
  let udpAddress: string;
  let gateway: EmbeddedGateway;
  let api: number;

  before(async () => {
    echo = await tcpEcho();
    udp = await udpEcho();
    echoAddress = `127.0.0.1:${(echo.address() as net.AddressInfo).port}`;
    udpAddress = `127.0.0.1:${udp.address().port}`;
    gateway = await startGateway({
      args: [
        '--entrypoints.tcp.address=127.0.0.1:0',
        '--entrypoints.dns.address=127.0.0.1:0/udp',
        '--entrypoints.traefik.address=127.0.0.1:0',
        '--api.insecure=true',
      ],
      dynamic: {
        tcp: {
          routers: {
            echo: { rule: 'HostSNI(`*`)', entryPoints: ['tcp'], middlewares: ['local'], service: 'echo' },
            broken: { rule: 'HostSNI(`db.test`', entryPoints: ['tcp'], service: 'echo' },
            orphan: { rule: 'HostSNI(`orphan.test`)', entryPoints: ['tcp'], service: 'nowhere', tls: { passthrough: true } },
          },
          services: {
            echo: { loadBalancer: { servers: [{ address: echoAddress }] } },
            spare: { loadBalancer: { servers: [{ address: '127.0.0.1:9' }] } },
          },
          middlewares: { local: { ipAllowList: { sourceRange: ['127.0.0.1/32'] } } },
        },
        udp: {
          routers: { dns: { entryPoints: ['dns'], service: 'dns' }, lost: { entryPoints: ['dns'], service: 'nowhere' } },
          services: { dns: { loadBalancer: { servers: [{ address: udpAddress }] } } },
        },
      },
    });
    api = gateway.address('traefik').port;
  });

  after(async () => {
    await gateway.stop();
    echo.close();
    udp.close();
  });

  test('the configuration is live: bytes through the TCP router and a datagram through the UDP router come back', async () => {
    const tcpPort = gateway.address('tcp').port;
    const udpPort = gateway.address('dns').port;
    assert.equal(await eventually(() => throughTcp(tcpPort, 'ping\n'), 'the TCP echo through the gateway'), 'ping\n');
    assert.equal(await eventually(() => throughUdp(udpPort, 'query'), 'the UDP echo through the gateway'), 'query');
  });

  test('GET /api/overview: tcp and udp counts as Traefik (errors = disabled)', async () => {
    const { status, json } = await get(api, '/api/overview');
    assert.equal(status, 200);
    assert.deepEqual(json.tcp, {
      routers: { total: 3, warnings: 0, errors: 2 },
      services: { total: 2, warnings: 0, errors: 0 },
      middlewares: { total: 1, warnings: 0, errors: 0 },
    });
    assert.deepEqual(json.udp, { routers: { total: 2, warnings: 0, errors: 1 }, services: { total: 1, warnings: 0, errors: 0 } });
    assert.deepEqual(json.providers, ['Inline']);
  });

  test('GET /api/tcp/routers: Traefik items sorted by name, priorityStr, errors of broken routers', async () => {
    const { status, headers, json } = await get(api, '/api/tcp/routers');
    assert.equal(status, 200);
    assert.match(String(headers['content-type']), /^application\/json/);
    assert.equal(headers['x-next-page'], '1');
    assert.deepEqual(json.map((r: Json) => r.name), ['broken@inline', 'echo@inline', 'orphan@inline']);
    assert.deepEqual(json[1], {
      entryPoints: ['tcp'],
      middlewares: ['local@inline'],
      service: 'echo@inline',
      rule: 'HostSNI(`*`)',
      priority: -1,
      priorityStr: '-1',
      status: 'enabled',
      using: ['tcp'],
      name: 'echo@inline',
      provider: 'inline',
    });
    assert.equal(json[0].status, 'disabled');
    assert.equal(json[0].error.length, 1);
    assert.match(json[0].error[0], /invalid rule/);
    assert.deepEqual([json[2].status, json[2].tls, json[2].error], ['disabled', { passthrough: true }, ["service 'nowhere@inline' does not exist; define it under tcp.services"]]);
  });

  test('TCP router lists: search in name and rule, status, serviceName, sorting, pagination with X-Next-Page', async () => {
    const names = (json: Json) => json.map((r: Json) => r.name);
    assert.deepEqual(names((await get(api, '/api/tcp/routers?search=orphan.TEST')).json), ['orphan@inline']);
    assert.deepEqual(names((await get(api, '/api/tcp/routers?status=disabled')).json), ['broken@inline', 'orphan@inline']);
    assert.deepEqual(names((await get(api, '/api/tcp/routers?serviceName=echo@inline')).json), ['broken@inline', 'echo@inline']);
    assert.deepEqual(names((await get(api, '/api/tcp/routers?middlewareName=local@inline')).json), ['echo@inline']);
    assert.deepEqual(names((await get(api, '/api/tcp/routers?sortBy=priority&direction=desc')).json), ['orphan@inline', 'broken@inline', 'echo@inline']);
    const first = await get(api, '/api/tcp/routers?per_page=2&page=1');
    assert.deepEqual([names(first.json), first.headers['x-next-page']], [['broken@inline', 'echo@inline'], '2']);
    const second = await get(api, '/api/tcp/routers?per_page=2&page=2');
    assert.deepEqual([names(second.json), second.headers['x-next-page']], [['orphan@inline'], '1']);
    const past = await get(api, '/api/tcp/routers?per_page=2&page=3');
    assert.equal(past.status, 400);
    assert.equal((await get(api, '/api/udp/services?status=maybe')).status, 400);
  });

  test('GET /api/tcp/services and /api/tcp/middlewares: configuration, usedBy, serverStatus, lower-case type', async () => {
    const services = await get(api, '/api/tcp/services');
    assert.equal(services.headers['x-next-page'], '1');
    assert.deepEqual(services.json[0], {
      loadBalancer: { servers: [{ address: echoAddress }] },
      status: 'enabled',
      usedBy: ['echo@inline'],
      serverStatus: { [echoAddress]: 'UP' },
      type: 'loadbalancer',
      name: 'echo@inline',
      provider: 'inline',
    });
    assert.deepEqual((await get(api, '/api/tcp/services?search=spa')).json.map((s: Json) => s.name), ['spare@inline']);
    const middlewares = await get(api, '/api/tcp/middlewares');
    assert.deepEqual(middlewares.json, [
      { ipAllowList: { sourceRange: ['127.0.0.1/32'] }, status: 'enabled', usedBy: ['echo@inline'], type: 'ipallowlist', name: 'local@inline', provider: 'inline' },
    ]);
  });

  test('GET /api/udp/routers and /api/udp/services: Traefik items, the router without a service disabled', async () => {
    const routers = await get(api, '/api/udp/routers');
    assert.equal(routers.headers['x-next-page'], '1');
    assert.deepEqual(routers.json, [
      { entryPoints: ['dns'], service: 'dns@inline', status: 'enabled', using: ['dns'], name: 'dns@inline', provider: 'inline' },
      {
        entryPoints: ['dns'],
        service: 'nowhere@inline',
        status: 'disabled',
        using: ['dns'],
        name: 'lost@inline',
        provider: 'inline',
        error: ["service 'nowhere@inline' does not exist"],
      },
    ]);
    assert.deepEqual((await get(api, '/api/udp/routers?status=enabled')).json.map((r: Json) => r.name), ['dns@inline']);
    assert.deepEqual((await get(api, '/api/udp/routers?serviceName=nowhere@inline')).json.map((r: Json) => r.name), ['lost@inline']);
    assert.deepEqual((await get(api, '/api/udp/routers?search=LOST')).json.map((r: Json) => r.name), ['lost@inline']);
    const services = await get(api, '/api/udp/services');
    assert.deepEqual(services.json, [
      { loadBalancer: { servers: [{ address: udpAddress }] }, status: 'enabled', usedBy: ['dns@inline'], type: 'loadbalancer', name: 'dns@inline', provider: 'inline' },
    ]);
  });

  test('GET /api/{tcp,udp}/<kind>/<name>: one element (name percent-decoded); unknown names are 404 with Traefik messages', async () => {
    const one = await get(api, '/api/tcp/routers/echo%40inline');
    assert.deepEqual([one.status, one.json.name, one.json.priorityStr], [200, 'echo@inline', '-1']);
    assert.deepEqual((await get(api, '/api/tcp/services/spare@inline')).json.loadBalancer, { servers: [{ address: '127.0.0.1:9' }] });
    assert.equal((await get(api, '/api/tcp/middlewares/local@inline')).json.type, 'ipallowlist');
    assert.equal((await get(api, '/api/udp/routers/lost@inline')).json.status, 'disabled');
    assert.equal((await get(api, '/api/udp/services/dns@inline')).json.type, 'loadbalancer');
    const missing: [string, string][] = [
      ['/api/tcp/routers/nope@inline', 'router not found: nope@inline'],
      ['/api/tcp/services/nope@inline', 'service not found: nope@inline'],
      ['/api/tcp/middlewares/nope@inline', 'middleware not found: nope@inline'],
      ['/api/udp/routers/nope@inline', 'router not found: nope@inline'],
      ['/api/udp/services/nope@inline', 'service not found: nope@inline'],
    ];
    for (const [path, message] of missing) {
      const reply = await get(api, path);
      assert.deepEqual([reply.status, reply.json], [404, { message }], path);
    }
    assert.equal((await get(api, '/api/udp/middlewares')).status, 404, 'UDP has no middlewares');
  });

  test('GET /api/rawdata: tcpRouters, tcpMiddlewares, tcpServices, udpRouters, udpServices by name', async () => {
    const { json } = await get(api, '/api/rawdata');
    assert.deepEqual(Object.keys(json), ['routers', 'middlewares', 'services', 'tcpRouters', 'tcpMiddlewares', 'tcpServices', 'udpRouters', 'udpServices']);
    assert.deepEqual(Object.keys(json.tcpRouters), ['broken@inline', 'echo@inline', 'orphan@inline']);
    assert.deepEqual(json.tcpRouters['echo@inline'], {
      entryPoints: ['tcp'],
      middlewares: ['local@inline'],
      service: 'echo@inline',
      rule: 'HostSNI(`*`)',
      priority: -1,
      status: 'enabled',
      using: ['tcp'],
    });
    assert.deepEqual(json.tcpServices['echo@inline'].serverStatus, { [echoAddress]: 'UP' });
    assert.equal(json.tcpMiddlewares['local@inline'].status, 'enabled');
    assert.deepEqual(Object.keys(json.udpRouters), ['dns@inline', 'lost@inline']);
    assert.deepEqual(json.udpServices['dns@inline'].usedBy, ['dns@inline']);
  });
});

describe('api: TCP middleware options shown through their schema', () => {
  let gateway: EmbeddedGateway;
  let api: number;

  before(async () => {
    gateway = await startGateway({
      args: ['--entrypoints.tcp.address=127.0.0.1:0', '--entrypoints.traefik.address=127.0.0.1:0', '--api.insecure=true'],
      plugins: [tcpVault],
      dynamic: {
        tcp: {
          routers: { sealed: { rule: 'HostSNI(`sealed.test`)', entryPoints: ['tcp'], middlewares: ['vault'], service: 'nowhere-else', tls: { passthrough: true } } },
          services: { 'nowhere-else': { loadBalancer: { servers: [{ address: '127.0.0.1:9' }] } } },
          middlewares: { vault: { tcpVault: { token: SECRET_TOKEN, grace: '1500ms' } } },
        },
      },
    });
    api = gateway.address('traefik').port;
  });

  after(async () => {
    await gateway.stop();
  });

  test('TCP middleware options go through the schema: the secret shows as xxxx, the duration as 1.5s, everywhere', async () => {
    const vault = await get(api, '/api/tcp/middlewares/vault@inline');
    assert.deepEqual(vault.json, { tcpVault: { token: 'xxxx', grace: '1.5s' }, status: 'enabled', usedBy: ['sealed@inline'], type: 'tcpvault', name: 'vault@inline', provider: 'inline' });
    for (const path of ['/api/rawdata', '/api/tcp/middlewares', '/api/tcp/routers']) {
      const reply = await request(api, { path, headers: { host: '127.0.0.1' } });
      assert.ok(!reply.body.includes(SECRET_TOKEN), `${path} does not leak the secret`);
    }
  });
});
