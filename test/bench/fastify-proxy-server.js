// @fastify/http-proxy (undici through @fastify/reply-from) as a bench target: `node fastify-proxy-server.js <port> <targetOrigin>`.
import Fastify from 'fastify';
import proxy from '@fastify/http-proxy';

const [listenPort, target] = process.argv.slice(2);
if (listenPort === undefined || target === undefined) {
  console.error('usage: node fastify-proxy-server.js <listenPort> <targetOrigin>');
  process.exit(2);
}

const app = Fastify({ logger: false });
// The same pool shape as the reference proxy and Wharf's default transport: 200 keep-alive connections.
await app.register(proxy, { upstream: target, undici: { connections: 200, pipelining: 1, keepAliveTimeout: 90_000 } });
const address = await app.listen({ port: Number(listenPort), host: '127.0.0.1' });
console.log(`listening ${new URL(address).port}`);
