// ipAllowList on TCP routers (tcp.middlewares): connections from outside sourceRange are closed before reaching
// the server; a bad range disables the routers using it, naming the field.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net, { type AddressInfo } from 'node:net';
import { startGateway, type EmbeddedGateway } from '@wharf/core';
import ipAllowList from './index.js';

let echo: net.Server;
let gateway: EmbeddedGateway;

before(async () => {
  echo = net.createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  gateway = await startGateway({ plugins: [ipAllowList], args: ['--entrypoints.tcp.address=127.0.0.1:0'] });
});
after(async () => {
  await gateway.stop();
  await new Promise((r) => echo.close(r));
});

function configure(sourceRange: string[]): void {
  gateway.configure({
    tcp: {
      routers: { r: { rule: 'HostSNI(`*`)', service: 'echo', middlewares: ['allow'] } },
      middlewares: { allow: { ipAllowList: { sourceRange } } },
      services: { echo: { loadBalancer: { servers: [{ address: `127.0.0.1:${(echo.address() as AddressInfo).port}` }] } } },
    },
  });
}

/** Whether `text` comes back before the connection closes. */
function echoes(text: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port: gateway.address('tcp').port }, () => socket.write(text));
    let seen = '';
    socket.on('data', (c: Buffer) => {
      seen += c.toString();
      if (seen === text) {
        socket.destroy();
        resolve(true);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(false));
  });
}

test('a client in sourceRange is relayed, one outside it is closed', async () => {
  configure(['127.0.0.1/32']);
  assert.equal(await echoes('allowed'), true);
  configure(['10.0.0.0/8']);
  assert.equal(await echoes('refused'), false);
});

test('an invalid range disables the middleware and its router, naming the field', () => {
  configure(['10.0.0.300']);
  assert.match(gateway.info.tcp!.middlewares['allow@inline']!.errors!.join(), /sourceRange: '10\.0\.0\.300' is not an IP address or CIDR range/);
  assert.equal(gateway.info.tcp!.routers['r@inline']!.status, 'disabled');
});

test('the HTTP options (rejectStatusCode, ipStrategy) are not TCP options', () => {
  const decoded = gateway.configure({ tcp: { middlewares: { allow: { ipAllowList: { sourceRange: ['127.0.0.1'], rejectStatusCode: 404 } } } } });
  assert.deepEqual(decoded.problems.map((p) => `${p.kind}/${p.name}`), ['tcp.middlewares/allow']);
  assert.match(decoded.problems[0]!.messages.join(), /rejectStatusCode/);
});
