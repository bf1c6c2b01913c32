// UDP entrypoints and routing through a real gateway: echo servers and clients on loopback sockets.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { networkInterfaces } from 'node:os';
import { eventually, tempDir } from '@wharf/test-helpers';
import { startGateway, type EmbeddedGateway } from '../embed.js';
import { silentLogger } from '../log.js';
import { decodeStatic, readStaticSources } from '../config/static.js';
import { entryPointProtocol, parseServerAddress } from './address.js';
import { serverHandler } from './balancer.js';
import { UDPEntrypoint } from './entrypoint.js';
import { startUDPEcho, UDPClient, type UDPEcho } from './udp.test.helper.js';

const dns = (timeout = '3s') => ({ dns: { address: '127.0.0.1:0/udp', udp: { timeout } }, web: { address: '127.0.0.1:0' } });

describe('UDP entrypoint and router', () => {
  let gateway: EmbeddedGateway;
  let a: UDPEcho;
  let b: UDPEcho;
  const clients: UDPClient[] = [];
  const client = async () => {
    const c = await UDPClient.open();
    clients.push(c);
    return c;
  };

  before(async () => {
    a = await startUDPEcho('A');
    b = await startUDPEcho('B');
    gateway = await startGateway({ config: { entryPoints: dns() } });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await gateway.stop();
    await Promise.all([a.close(), b.close()]);
  });

  test('replies go back to the client that asked, through one upstream socket per client', async () => {
    gateway.configure({ udp: { routers: { r: { service: 'echo' } }, services: { echo: { loadBalancer: { servers: [{ address: `127.0.0.1:${a.port}` }] } } } } });
    const port = gateway.address('dns').port;
    const three = await Promise.all([client(), client(), client()]);
    const seenBefore = a.senders.length;
    for (let round = 0; round < 3; round++) {
      const replies = await Promise.all(three.map((c, i) => c.ask(port, `client${i}-round${round}`)));
      assert.deepEqual(replies, three.map((_, i) => `A:client${i}-round${round}`));
    }
    const upstreamPorts = new Set(a.senders.slice(seenBefore));
    assert.equal(upstreamPorts.size, 3, 'one upstream socket per client, kept across datagrams');
    assert.deepEqual(three.map((c) => c.unexpected.length), [0, 0, 0]);
    const info = gateway.info.udpRouters!['r@inline']!;
    assert.equal(info.status, 'enabled');
    assert.deepEqual(info.entryPoints, ['dns']);
    assert.equal(info.service, 'echo@inline');
    assert.deepEqual(gateway.info.udpServices!['echo@inline']!.usedBy, ['r@inline']);
    assert.equal(gateway.info.udpServices!['echo@inline']!.type, 'loadBalancer');
  });

  test('weighted services share new sessions by weight; a loadBalancer round-robins', async () => {
    gateway.configure({
      udp: {
        routers: { r: { entryPoints: ['dns'], service: 'split' } },
        services: {
          split: { weighted: { services: [{ name: 'a', weight: 3 }, { name: 'b' }] } },
          a: { loadBalancer: { servers: [{ address: `127.0.0.1:${a.port}` }] } },
          b: { loadBalancer: { servers: [{ address: `127.0.0.1:${b.port}` }] } },
          both: { loadBalancer: { servers: [{ address: `127.0.0.1:${a.port}` }, { address: `127.0.0.1:${b.port}` }] } },
        },
      },
    });
    const port = gateway.address('dns').port;
    const count = async (sessions: number) => {
      const replies = [];
      for (let i = 0; i < sessions; i++) replies.push(await (await client()).ask(port, `hello${i}`));
      return { A: replies.filter((r) => r.startsWith('A:')).length, B: replies.filter((r) => r.startsWith('B:')).length };
    };
    assert.deepEqual(await count(8), { A: 6, B: 2 });
    assert.equal(gateway.info.udpServices!['split@inline']!.type, 'weighted');
    assert.deepEqual(gateway.info.udpServices!['a@inline']!.usedBy, ['split@inline']);

    gateway.configure({ udp: { routers: { r: { service: 'both' } }, services: { both: { loadBalancer: { servers: [{ address: `127.0.0.1:${a.port}` }, { address: `127.0.0.1:${b.port}` }] } } } } });
    assert.deepEqual(await count(6), { A: 3, B: 3 });
  });

  test('a reload sends new sessions to the new service and keeps the live ones', async () => {
    const port = gateway.address('dns').port;
    const to = (echo: UDPEcho) => ({ udp: { routers: { r: { service: 'echo' } }, services: { echo: { loadBalancer: { servers: [{ address: `127.0.0.1:${echo.port}` }] } } } } });
    gateway.configure(to(a));
    const live = await client();
    assert.equal(await live.ask(port, 'before'), 'A:before');
    gateway.configure(to(b));
    assert.equal(await live.ask(port, 'after'), 'A:after');
    assert.equal(await (await client()).ask(port, 'new'), 'B:new');
    gateway.configure({});
    assert.equal(await live.ask(port, 'router gone'), 'A:router gone');
  });
});

describe('UDP from the file provider', () => {
  test('a YAML file: a bad UDP router is disabled with the field named, the good one serves; edits apply', async () => {
    const echo = await startUDPEcho('F');
    const other = await startUDPEcho('G');
    const dir = tempDir('wharf-udp-');
    const yaml = (port: number) =>
      [
        'udp:',
        '  routers:',
        '    good: { entryPoints: [dns], service: echo }',
        '    bad: { entryPoints: [dns], service: echo, priority: 3 }',
        '  services:',
        `    echo: { loadBalancer: { servers: [{ address: "127.0.0.1:${port}" }] } }`,
      ].join('\n');
    dir.write('dynamic.yml', yaml(echo.port));
    const gateway = await startGateway({
      config: { entryPoints: dns() },
      args: [`--providers.file.filename=${dir.file('dynamic.yml')}`, '--providers.providersThrottleDuration=10ms'],
    });
    const c = await UDPClient.open();
    try {
      await eventually(() => gateway.info.udpRouters?.['good@file'], 'the file loaded');
      const bad = gateway.info.udpRouters!['bad@file']!;
      assert.equal(bad.status, 'disabled');
      assert.match(bad.errors!.join(), /dynamic\.yml: udp\.routers\.bad\.priority: unknown field 'priority'/);
      assert.equal(await c.ask(gateway.address('dns').port, 'from file'), 'F:from file');
      dir.write('dynamic.yml', yaml(other.port));
      await eventually(() => gateway.info.udpServices?.['echo@file']?.config?.loadBalancer?.servers[0]?.address === `127.0.0.1:${other.port}`, 'the edit applied');
      const fresh = await UDPClient.open();
      assert.equal(await fresh.ask(gateway.address('dns').port, 'after edit'), 'G:after edit');
      await fresh.close();
    } finally {
      await c.close();
      await gateway.stop();
      await Promise.all([echo.close(), other.close()]);
      dir.remove();
    }
  });

  test('a directory: an element defined in two files is left out, naming both files', async () => {
    const dir = tempDir('wharf-udp-dir-');
    const service = 'services: { s: { loadBalancer: { servers: [{ address: "127.0.0.1:9" }] } } }';
    dir.write('a.yml', `udp: { routers: { r: { service: s } }, ${service} }\nhttp: { routers: { h: { rule: "Path(\`/\`)", service: x } } }`);
    dir.write('b.yml', 'udp: { routers: { r: { service: s, entryPoints: [dns] } } }\nhttp: { routers: { h: { rule: "Path(`/b`)", service: x } } }');
    const gateway = await startGateway({ config: { entryPoints: dns() }, args: [`--providers.file.directory=${dir.path}`] });
    try {
      const r = await eventually(() => gateway.info.udpRouters?.['r@file'], 'the files loaded');
      assert.equal(r.status, 'disabled');
      assert.deepEqual(r.errors, [`udp.routers.r is defined in 2 files (${dir.file('a.yml')}, ${dir.file('b.yml')}); define it once`]);
      assert.equal(gateway.info.udpServices!['s@file']!.status, 'enabled', 'defined once: kept');
      assert.deepEqual(gateway.info.routers['h@file']!.errors, [`http.routers.h is defined in 2 files (${dir.file('a.yml')}, ${dir.file('b.yml')}); define it once`]);
    } finally {
      await gateway.stop();
      dir.remove();
    }
  });
});

describe('UDP sessions', () => {
  test('a session idle for udp.timeout is closed; the next datagram opens a new one', async () => {
    const echo = await startUDPEcho('E');
    const target = parseServerAddress(`127.0.0.1:${echo.port}`, 'address');
    const config = decodeStatic(readStaticSources(['--entrypoints.dns.address=127.0.0.1:0/udp', '--entrypoints.dns.udp.timeout=2s'], {})).entryPoints.dns!;
    const ep = new UDPEntrypoint({ name: 'dns', config, handler: () => serverHandler(target), log: silentLogger() });
    const { port } = await ep.listen();
    const c = await UDPClient.open();
    try {
      assert.equal(await c.ask(port, 'one'), 'E:one');
      assert.equal(await c.ask(port, 'two'), 'E:two');
      assert.equal(ep.sessionCount, 1);
      assert.equal(new Set(echo.senders).size, 1);
      await eventually(() => ep.sessionCount === 0, 'the idle session to close');
      assert.equal(await c.ask(port, 'three'), 'E:three');
      assert.equal(new Set(echo.senders).size, 2, 'a new session has a new upstream socket');
    } finally {
      await c.close();
      await ep.close(0);
      await echo.close();
    }
  });

  test('transport.maxConnections bounds the open sessions', async () => {
    const echo = await startUDPEcho('E');
    const target = parseServerAddress(`127.0.0.1:${echo.port}`, 'address');
    const config = decodeStatic(readStaticSources(['--entrypoints.dns.address=127.0.0.1:0/udp', '--entrypoints.dns.transport.maxConnections=1', '--entrypoints.dns.udp.timeout=2s'], {})).entryPoints.dns!;
    const ep = new UDPEntrypoint({ name: 'dns', config, handler: () => serverHandler(target), log: silentLogger() });
    const { port } = await ep.listen();
    const [first, second] = await Promise.all([UDPClient.open(), UDPClient.open()]);
    try {
      assert.equal(await first.ask(port, 'first'), 'E:first');
      second.send(port, 'refused');
      // Datagrams to one socket are read in order: once this one is answered, 'refused' has been dropped.
      assert.equal(await first.ask(port, 'after'), 'E:after');
      assert.equal(ep.sessionCount, 1);
      assert.equal(new Set(echo.senders).size, 1, 'nothing from the second client reached the server');
      await eventually(() => ep.sessionCount === 0, 'the first session to go idle');
      assert.equal(await second.ask(port, 'second'), 'E:second', 'a session slot is free again');
      assert.deepEqual(second.unexpected, []);
    } finally {
      await Promise.all([first.close(), second.close()]);
      await ep.close(0);
      await echo.close();
    }
  });

  test('shutdown stops taking sessions, lets the live one finish, then closes', async () => {
    const echo = await startUDPEcho('E');
    const gateway = await startGateway({
      config: { entryPoints: dns('1s') },
      dynamic: { udp: { routers: { r: { service: 'e' } }, services: { e: { loadBalancer: { servers: [{ address: `127.0.0.1:${echo.port}` }] } } } } },
    });
    const port = gateway.address('dns').port;
    const live = await UDPClient.open();
    try {
      assert.equal(await live.ask(port, 'open'), 'E:open');
      const stopped = gateway.stop();
      assert.equal(await live.ask(port, 'while draining'), 'E:while draining');
      await stopped;
      const probe = createSocket('udp4');
      probe.bind(port, '127.0.0.1'); // the port is free again: the entrypoint's socket is closed
      await once(probe, 'listening');
      probe.close();
    } finally {
      await live.close();
      await echo.close();
    }
  });
});

// Machines without IPv6 loopback check instead that binding it fails naming the entrypoint.
const hasIPv6Loopback = Object.values(networkInterfaces()).some((list) => list?.some((i) => i.address === '::1'));

describe('UDP over IPv6', () => {
  if (!hasIPv6Loopback) {
    test('without IPv6 loopback, [::1] fails naming the entrypoint', async () => {
      await assert.rejects(startGateway({ args: ['--entrypoints.v6.address=[::1]:0/udp'] }), /entrypoint v6: cannot listen on \[::1\]:0\/udp/);
    });
    return;
  }
  test('an entrypoint on [::1] relays to an IPv6 server; :port takes IPv4 and IPv6 clients', async () => {
    const echo6 = await startUDPEcho('six', '::1');
    const gateway = await startGateway({
      config: { entryPoints: { v6: { address: '[::1]:0/udp' }, any: { address: ':0/UDP' } } },
      dynamic: { udp: { routers: { r: { service: 'e' } }, services: { e: { loadBalancer: { servers: [{ address: `[::1]:${echo6.port}` }] } } } } },
    });
    const c6 = await UDPClient.open('udp6');
    const c4 = await UDPClient.open('udp4');
    try {
      assert.equal(gateway.address('v6').family, 'IPv6');
      assert.equal(await c6.ask(gateway.address('v6').port, 'hi', '::1'), 'six:hi');
      assert.equal(await c6.ask(gateway.address('any').port, 'any6', '::1'), 'six:any6');
      assert.equal(await c4.ask(gateway.address('any').port, 'any4', '127.0.0.1'), 'six:any4');
      assert.deepEqual(gateway.info.udpRouters!['r@inline']!.entryPoints.sort(), ['any', 'v6']);
    } finally {
      await Promise.all([c6.close(), c4.close()]);
      await gateway.stop();
      await echo6.close();
    }
  });
});

describe('UDP configuration errors', () => {
  let gateway: EmbeddedGateway;
  before(async () => {
    gateway = await startGateway({ config: { entryPoints: { ...dns(), other: { address: '127.0.0.1:0/udp' } } } });
  });
  after(() => gateway.stop());

  const cases: { desc: string; dynamic: Record<string, unknown>; element: ['udpRouters' | 'udpServices' | 'routers', string]; status: string; error: RegExp }[] = [
    { desc: 'router without service', dynamic: { udp: { routers: { r: { entryPoints: ['dns'] } } } }, element: ['udpRouters', 'r@inline'], status: 'disabled', error: /service.*is required/ },
    { desc: 'unknown field', dynamic: { udp: { routers: { r: { service: 's', rule: 'HostSNI(`*`)' } } } }, element: ['udpRouters', 'r@inline'], status: 'disabled', error: /rule/ },
    { desc: 'missing service', dynamic: { udp: { routers: { r: { service: 'nope' } } } }, element: ['udpRouters', 'r@inline'], status: 'disabled', error: /service 'nope@inline' does not exist/ },
    {
      desc: 'TCP entrypoint named by a UDP router',
      dynamic: { udp: { routers: { r: { entryPoints: ['web'], service: 's' } }, services: { s: { loadBalancer: { servers: [{ address: '127.0.0.1:9' }] } } } } },
      element: ['udpRouters', 'r@inline'],
      status: 'disabled',
      error: /entrypoint 'web' is not a UDP entrypoint/,
    },
    {
      desc: 'unknown entrypoint next to a good one',
      dynamic: { udp: { routers: { r: { entryPoints: ['dns', 'nope'], service: 's' } }, services: { s: { loadBalancer: { servers: [{ address: '127.0.0.1:9' }] } } } } },
      element: ['udpRouters', 'r@inline'],
      status: 'warning',
      error: /entrypoint 'nope' does not exist/,
    },
    {
      desc: 'bad server address: that server is left out',
      dynamic: { udp: { routers: { r: { service: 's' } }, services: { s: { loadBalancer: { servers: [{ address: 'nocolon' }, { address: '127.0.0.1:9' }] } } } } },
      element: ['udpServices', 's@inline'],
      status: 'warning',
      error: /loadBalancer\.servers\[0\]\.address: expected host:port .* got "nocolon"/,
    },
    {
      desc: 'no valid server',
      dynamic: { udp: { services: { s: { loadBalancer: { servers: [{ address: '127.0.0.1:99999' }] } } }, routers: { r: { service: 's' } } } },
      element: ['udpRouters', 'r@inline'],
      status: 'disabled',
      error: /service 's@inline' is disabled: .*no server has a valid address/,
    },
    {
      desc: 'both loadBalancer and weighted',
      dynamic: { udp: { services: { s: { loadBalancer: { servers: [] }, weighted: { services: [{ name: 'x' }] } } } } },
      element: ['udpServices', 's@inline'],
      status: 'disabled',
      error: /more than 1|maxProperties|must NOT have more than 1/,
    },
    {
      desc: 'weighted cycle',
      dynamic: { udp: { routers: { r: { service: 'x' } }, services: { x: { weighted: { services: [{ name: 'y' }] } }, y: { weighted: { services: [{ name: 'x' }] } } } } },
      element: ['udpServices', 'x@inline'],
      status: 'disabled',
      error: /cycle: x@inline → y@inline → x@inline/,
    },
    {
      desc: 'negative weight',
      dynamic: { udp: { services: { s: { weighted: { services: [{ name: 'x', weight: -1 }] } } } } },
      element: ['udpServices', 's@inline'],
      status: 'disabled',
      error: /weight/,
    },
    {
      desc: 'HTTP router naming a UDP entrypoint',
      dynamic: { http: { routers: { h: { rule: 'Path(`/`)', entryPoints: ['dns'], service: 's' } }, services: { s: { loadBalancer: { servers: [{ url: 'http://127.0.0.1:9' }] } } } } },
      element: ['routers', 'h@inline'],
      status: 'disabled',
      error: /entrypoint 'dns' is a UDP entrypoint .*HTTP routers cannot use it/,
    },
  ];
  for (const { desc, dynamic, element, status, error } of cases) {
    test(desc, () => {
      gateway.configure(dynamic);
      const info = gateway.info[element[0]]![element[1]];
      assert.ok(info, `${element.join(' ')} is listed`);
      assert.equal(info.status, status, JSON.stringify(info.errors));
      assert.match((info.errors ?? []).join('\n'), error);
    });
  }

  test('HTTP routers without entryPoints leave UDP entrypoints out', () => {
    gateway.configure({ http: { routers: { h: { rule: 'Path(`/`)', service: 's' } }, services: { s: { loadBalancer: { servers: [{ url: 'http://127.0.0.1:9' }] } } } } });
    assert.deepEqual(gateway.info.routers['h@inline']!.entryPoints, ['web']);
  });

  test('a UDP entrypoint serves one router: the last by name, the others warn', () => {
    const service = { loadBalancer: { servers: [{ address: '127.0.0.1:9' }] } };
    gateway.configure({ udp: { routers: { alpha: { entryPoints: ['dns'], service: 's' }, beta: { entryPoints: ['dns'], service: 's' } }, services: { s: service } } });
    assert.equal(gateway.info.udpRouters!['beta@inline']!.status, 'enabled');
    assert.equal(gateway.info.udpRouters!['alpha@inline']!.status, 'warning');
    assert.match(gateway.info.udpRouters!['alpha@inline']!.errors!.join(), /served by UDP router 'beta@inline'/);
  });

  test('a UDP router without entryPoints takes every UDP entrypoint', () => {
    gateway.configure({ udp: { routers: { r: { service: 's' } }, services: { s: { loadBalancer: { servers: [{ address: 'dns.internal:53' }] } } } } });
    assert.deepEqual(gateway.info.udpRouters!['r@inline']!.entryPoints, ['dns', 'other']);
  });
});

describe('UDP static configuration', () => {
  test('the protocol suffix: /udp, /tcp (the default) in any case', () => {
    assert.equal(entryPointProtocol(':53/udp'), 'udp');
    assert.equal(entryPointProtocol('[::1]:53/UDP'), 'udp');
    assert.equal(entryPointProtocol(':80/tcp'), 'tcp');
    assert.equal(entryPointProtocol(':80'), 'tcp');
  });

  test('udp.timeout defaults to 3s', () => {
    const config = decodeStatic(readStaticSources(['--entrypoints.dns.address=:53/udp'], {}));
    assert.equal(config.entryPoints.dns!.udp.timeout, 3000);
  });

  const rejected: { desc: string; args: string[]; error: RegExp }[] = [
    { desc: 'timeout 0', args: ['--entrypoints.dns.address=127.0.0.1:0/udp', '--entrypoints.dns.udp.timeout=0'], error: /entryPoints\.dns\.udp\.timeout: must be more than 0/ },
    { desc: 'timeout not a duration', args: ['--entrypoints.dns.address=127.0.0.1:0/udp', '--entrypoints.dns.udp.timeout=soon'], error: /--entrypoints\.dns\.udp\.timeout/ },
    { desc: 'bad address', args: ['--entrypoints.dns.address=127.0.0.1/udp'], error: /entryPoints\.dns\.address: expected \[host\]:port/ },
  ];
  for (const { desc, args, error } of rejected) {
    test(`rejected: ${desc}`, async () => {
      await assert.rejects(startGateway({ args }), error);
    });
  }

  test('a port already taken fails naming the entrypoint', async () => {
    const taken = createSocket('udp4');
    taken.bind(0, '127.0.0.1');
    await once(taken, 'listening');
    try {
      await assert.rejects(startGateway({ args: [`--entrypoints.dns.address=127.0.0.1:${taken.address().port}/udp`] }), /entrypoint dns: cannot listen on 127\.0\.0\.1:\d+\/udp: .*EADDRINUSE/);
    } finally {
      taken.close();
    }
  });
});
