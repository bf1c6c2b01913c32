// inFlightConn on real sockets: the connection over the limit is closed before reaching the server; a slot comes
// back when a connection closes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net, { type AddressInfo, type Socket } from 'node:net';
import { startGateway, type EmbeddedGateway } from '@wharf/core';
import { eventually } from '@wharf/test-helpers';
import inFlightConn from './index.js';

let echo: net.Server;
let gateway: EmbeddedGateway;
let accepted = 0;

before(async () => {
  echo = net.createServer((socket) => {
    accepted++;
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  gateway = await startGateway({ plugins: [inFlightConn], args: ['--entrypoints.tcp.address=127.0.0.1:0'] });
  gateway.configure({
    tcp: {
      routers: { r: { rule: 'HostSNI(`*`)', service: 'echo', middlewares: ['one'] } },
      middlewares: { one: { inFlightConn: { amount: 1 } } },
      services: { echo: { loadBalancer: { servers: [{ address: `127.0.0.1:${(echo.address() as AddressInfo).port}` }] } } },
    },
  });
});
after(async () => {
  await gateway.stop();
  await new Promise((r) => echo.close(r));
});

/** Opens a connection and resolves once `text` came back, or with the reason it closed first. */
function open(text: string): Promise<{ socket: Socket; echoed: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port: gateway.address('tcp').port }, () => socket.write(text));
    let seen = '';
    socket.on('data', (c: Buffer) => {
      seen += c.toString();
      if (seen === text) resolve({ socket, echoed: true });
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ socket, echoed: false }));
  });
}

test('a second connection from the same IP is closed while the first is open', async () => {
  const first = await open('first');
  assert.equal(first.echoed, true);
  const second = await open('second');
  assert.equal(second.echoed, false);
  assert.equal(accepted, 1);
  first.socket.destroy();
  await eventually(async () => {
    const third = await open('third');
    third.socket.destroy();
    return third.echoed;
  }, 'a connection accepted once the first one closed');
});

test('amount must be at least 1, and the error names the field', () => {
  gateway.configure({
    tcp: {
      routers: { r: { rule: 'HostSNI(`*`)', service: 'echo', middlewares: ['zero'] } },
      middlewares: { zero: { inFlightConn: { amount: 0 } } },
      services: { echo: { loadBalancer: { servers: [{ address: '127.0.0.1:1' }] } } },
    },
  });
  assert.match(gateway.info.tcp!.middlewares['zero@inline']!.errors!.join(), /amount/);
  assert.equal(gateway.info.tcp!.routers['r@inline']!.status, 'disabled');
});
