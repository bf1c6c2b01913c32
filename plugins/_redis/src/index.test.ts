// The shared Redis settings: endpoint parsing and checks naming the caller's field, and real connections through
// the ioredis options they give (an ACL user with a database, TLS with a private CA and a client certificate).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { makeCA, makeCert, startRedisServer, tempDir, type RedisServerProcess } from '@wharf/test-helpers';
import { checkRedisConnection, parseEndpoint, redisConnectionDefaults, redisConnectionOptions, type RedisConnection } from './index.js';

const FIELD = 'certificatesResolvers.le.acme.redis';
const dir = tempDir('wharf-redis-lib-');
const servers: RedisServerProcess[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  dir.remove();
});

function connection(overrides: Partial<RedisConnection> = {}): RedisConnection {
  return { endpoints: ['127.0.0.1:6379'], db: 0, dialTimeout: 5000, readTimeout: 3000, writeTimeout: 3000, ...overrides };
}

test("redisConnectionDefaults: the section's defaults, as the decoder fills them", () => {
  assert.deepEqual(redisConnectionDefaults(), connection());
});

test('parseEndpoint: host:port, bare host, bracketed IPv6; errors name the field', () => {
  const cases = [
    { desc: 'host:port', input: 'redis:6380', expected: { host: 'redis', port: 6380 } },
    { desc: 'bare host', input: 'redis', expected: { host: 'redis', port: 6379 } },
    { desc: 'IPv6', input: '[::1]:7000', expected: { host: '::1', port: 7000 } },
    { desc: 'port 0', input: 'redis:0', error: `${FIELD}.endpoints: 'redis:0' is not host:port` },
    { desc: 'port too large', input: 'redis:70000', error: `${FIELD}.endpoints: 'redis:70000' is not host:port` },
    { desc: 'a URL', input: 'redis://redis:6379', error: `${FIELD}.endpoints: 'redis://redis:6379' is not host:port` },
  ];
  for (const c of cases) {
    if (c.error) assert.throws(() => parseEndpoint(c.input, FIELD), { message: c.error }, c.desc);
    else assert.deepEqual(parseEndpoint(c.input, FIELD), c.expected, c.desc);
  }
  assert.throws(() => parseEndpoint('redis:0'), { message: "redis.endpoints: 'redis:0' is not host:port" }, 'default field');
});

test('checkRedisConnection: errors name the field', () => {
  const cases = [
    { desc: 'no endpoint', config: connection({ endpoints: [] }), error: `${FIELD}.endpoints: give at least one host:port` },
    { desc: 'cluster with a db', config: connection({ endpoints: ['a:1', 'b:2'], db: 2 }), error: `${FIELD}.db: a Redis Cluster (several endpoints) only has database 0` },
    { desc: 'cert without key', config: connection({ tls: { cert: 'cert.pem' } }), error: `${FIELD}.tls: cert and key go together` },
    { desc: 'bad endpoint', config: connection({ endpoints: ['a:b:c'] }), error: `${FIELD}.endpoints: 'a:b:c' is not host:port` },
  ];
  for (const c of cases) assert.throws(() => checkRedisConnection(c.config, FIELD), { message: c.error }, c.desc);
  assert.doesNotThrow(() => checkRedisConnection(connection({ endpoints: ['a:1', 'b:2'] }), FIELD));
});

test('redisConnectionOptions: timeouts, TLS file errors named, a description without the password', () => {
  const options = redisConnectionOptions(connection({ username: 'alice', password: 'hunter2', db: 3 }), FIELD);
  assert.deepEqual(options.nodes, [{ host: '127.0.0.1', port: 6379 }]);
  assert.equal(options.description, '127.0.0.1:6379');
  assert.deepEqual(
    { ...options.redis },
    { username: 'alice', password: 'hunter2', db: 3, connectTimeout: 5000, commandTimeout: 6000, socketTimeout: 3000 },
  );
  assert.equal(redisConnectionOptions(connection({ readTimeout: 0, writeTimeout: 0 }), FIELD).redis.commandTimeout, undefined, '0 = no bound');
  const missing = dir.file('missing.pem');
  assert.throws(() => redisConnectionOptions(connection({ tls: { ca: missing } }), FIELD), (err: Error) => err.message.startsWith(`${FIELD}.tls.ca: `) && err.message.includes(missing));
  assert.throws(() => redisConnectionOptions(connection({ tls: { cert: missing, key: missing } }), FIELD), (err: Error) => err.message.startsWith(`${FIELD}.tls.cert: `));
  assert.throws(() => redisConnectionOptions(connection({ tls: { ca: dir.write('not.pem', 'hello') } }), FIELD), (err: Error) => err.message.startsWith(`${FIELD}.tls.ca: no PEM certificate`));
});

/** A client made from the settings, as a plugin would; PING and the database it selected. */
async function ask(config: RedisConnection): Promise<{ pong: string; db: string; user: string }> {
  const { nodes, redis } = redisConnectionOptions(config, FIELD);
  const client = new Redis({ ...redis, ...nodes[0], maxRetriesPerRequest: 0, retryStrategy: () => null });
  // ioredis answers "Connection is closed." and reports why (a TLS refusal) on its error event.
  let why: Error | undefined;
  client.on('error', (err: Error) => (why = err));
  try {
    const pong = await client.ping();
    const info = await client.client('INFO');
    return { pong, db: /\bdb=(\d+)/.exec(String(info))![1]!, user: /\buser=(\S+)/.exec(String(info))![1]! };
  } catch (err) {
    throw why ?? err;
  } finally {
    client.disconnect();
  }
}

test('an ACL user with a password and a database', async () => {
  const server = await startRedisServer('127.0.0.1', { args: ['--user', 'default', 'off', '--user', 'alice', 'on', '>s3cret', '~*', '&*', '+@all'] });
  servers.push(server);
  const endpoints = [`127.0.0.1:${server.port}`];
  assert.deepEqual(await ask(connection({ endpoints, username: 'alice', password: 's3cret', db: 5 })), { pong: 'PONG', db: '5', user: 'alice' });
  await assert.rejects(ask(connection({ endpoints, username: 'alice', password: 'wrong' })), /WRONGPASS/);
});

test('TLS with a private CA and a client certificate, from files and inline PEM', async () => {
  const ca = await makeCA('Redis test CA');
  const server = await startRedisServer('127.0.0.1', { tls: { server: await makeCert(['127.0.0.1'], { ca }), ca } });
  servers.push(server);
  const client = await makeCert(['wharf'], { ca, usage: 'client' });
  const endpoints = [`127.0.0.1:${server.port}`];
  const tls = { ca: dir.write('ca.pem', ca.cert), cert: dir.write('client.pem', client.cert), key: dir.write('client-key.pem', client.key) };
  assert.equal((await ask(connection({ endpoints, db: 1, tls }))).pong, 'PONG', 'PEM files');
  assert.equal((await ask(connection({ endpoints, tls: { ca: ca.cert, cert: client.cert, key: client.key } }))).pong, 'PONG', 'inline PEM');
  await assert.rejects(ask(connection({ endpoints, tls: { ca: tls.ca } })), 'no client certificate: refused');
  await assert.rejects(ask(connection({ endpoints, tls: { cert: tls.cert, key: tls.key } })), /self-signed|unable to verify|certificate/, 'the system CAs do not know the private CA');
});
