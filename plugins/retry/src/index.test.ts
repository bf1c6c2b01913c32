// The retry middleware: its options, and what the load balancer does with the policy it sets.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { definePlugin, startGateway, Type, type EmbeddedGateway, type WharfState } from '@wharf/core';
import { decode, flatToTree } from '@wharf/core/config';
import { closedPort, closeServer, startServer, type Listening } from '@wharf/test-helpers';
import retry, { schema } from './index.js';

const labels = (o: Record<string, string>) => flatToTree(Object.entries(o));
const DEFAULTS = { initialInterval: 0, timeout: 0, status: [], maxRequestBodyBytes: 2097152, disableRetryOnNetworkError: false, retryNonIdempotentMethod: false };

describe('options', () => {
  const cases: Array<{ desc: string; input: unknown; expected?: unknown; issues?: string[] }> = [
    { desc: 'attempts alone: retries without waiting', input: { attempts: 4 }, expected: { attempts: 4, ...DEFAULTS } },
    {
      desc: 'labels',
      input: labels({ Attempts: '3', initialinterval: '100ms', maxinterval: '1s' }),
      expected: { ...DEFAULTS, attempts: 3, initialInterval: 100, maxInterval: 1000 },
    },
    {
      desc: 'Traefik 3.7 options from labels, status comma-split',
      input: labels({
        attempts: '2',
        timeout: '2s',
        status: '503,500-504',
        maxRequestBodyBytes: '1024',
        disableRetryOnNetworkError: 'true',
        retryNonIdempotentMethod: 'true',
      }),
      expected: {
        ...DEFAULTS,
        attempts: 2,
        timeout: 2000,
        status: ['503', '500-504'],
        maxRequestBodyBytes: 1024,
        disableRetryOnNetworkError: true,
        retryNonIdempotentMethod: true,
      },
    },
    {
      desc: 'Traefik 3.7 options from a file',
      input: { attempts: 3, status: ['502'], maxRequestBodyBytes: -1, timeout: '500ms' },
      expected: { ...DEFAULTS, attempts: 3, status: ['502'], maxRequestBodyBytes: -1, timeout: 500 },
    },
    { desc: 'maxRequestBodyBytes below -1', input: { attempts: 2, maxRequestBodyBytes: -2 }, issues: ['maxRequestBodyBytes: must be >= -1'] },
    { desc: 'disableRetryOnNetworkError not a boolean', input: labels({ attempts: '2', disableRetryOnNetworkError: 'maybe' }), issues: ['disableRetryOnNetworkError: expected true or false (got "maybe")'] },
    { desc: 'attempts is required', input: { initialInterval: '1s' }, issues: ['attempts: is required'] },
    { desc: 'attempts must be at least 1', input: { attempts: 0 }, issues: ['attempts: must be >= 1'] },
    { desc: 'bad duration', input: { attempts: 2, initialInterval: 'soon' }, issues: ['initialInterval: expected a duration such as 10s, 500ms, 1m30s or a number of seconds (got "soon")'] },
  ];
  for (const { desc, input, expected, issues } of cases) {
    test(desc, () => {
      const result = decode(schema, input);
      assert.deepEqual(result.issues.map((i) => `${i.source}: ${i.message}`), issues ?? []);
      if (expected !== undefined) assert.deepEqual(result.value, expected);
    });
  }

  const invalid: Array<{ desc: string; options: Record<string, unknown>; error: string }> = [
    {
      desc: 'maxInterval shorter than initialInterval',
      options: { attempts: 2, initialInterval: '1s', maxInterval: '500ms' },
      error: 'retry.maxInterval (500ms) must not be shorter than retry.initialInterval (1s)',
    },
    {
      desc: 'a status that is not a code or range',
      options: { attempts: 2, status: ['503', 'abc'] },
      error: 'retry.status: expected a status code or range between 100 and 599 such as 503 or 500-599, got "abc"',
    },
    {
      desc: 'a reversed range',
      options: { attempts: 2, status: ['599-500'] },
      error: 'retry.status: expected a status code or range between 100 and 599 such as 503 or 500-599, got "599-500"',
    },
    {
      desc: 'network errors off and no status (Traefik refuses it too)',
      options: { attempts: 2, disableRetryOnNetworkError: true },
      error: 'retry.disableRetryOnNetworkError: with network errors off, list the statuses to retry on in retry.status, or nothing is ever retried',
    },
  ];
  for (const { desc, options, error } of invalid) {
    test(`${desc}: disables the middleware and its routers, naming the field`, async () => {
      const gateway = await startGateway({ plugins: [retry], args: ['--entrypoints.web.address=127.0.0.1:0'] });
      try {
        gateway.configure({
          http: {
            routers: { r: { rule: 'PathPrefix(`/`)', service: 's', middlewares: ['bad'] } },
            services: { s: { loadBalancer: { servers: [{ url: 'http://127.0.0.1:1' }] } } },
            middlewares: { bad: { retry: options } },
          },
        });
        assert.deepEqual(gateway.info.middlewares['bad@inline']?.errors, [error]);
        assert.equal(gateway.info.routers['r@inline']?.status, 'disabled');
      } finally {
        await gateway.stop();
      }
    });
  }
});

describe('retries through the gateway', () => {
  /** Reads the request head, then closes the connection without answering. */
  let closer: Listening;
  let closerUrl: string;
  let good: Listening;
  let goodUrl: string;
  let refusedUrl: string;
  const policies: Array<WharfState['retry']> = [];
  // Runs after retry in the chain and records the policy the load balancer will see.
  const spy = definePlugin({
    name: 'spy',
    schema: Type.Object({}),
    create: () => async (ctx, next) => {
      policies.push(ctx.wharf.retry);
      await next();
    },
  });

  before(async () => {
    closer = await startServer((req) => req.socket.destroy());
    closerUrl = closer.url;
    good = await startServer((_req, res) => res.end('good'));
    goodUrl = good.url;
    refusedUrl = `http://127.0.0.1:${await closedPort()}`;
  });
  after(async () => {
    await closer.close();
    await good.close();
  });

  async function gatewayWith(servers: string[], retryOptions: Record<string, unknown> | undefined): Promise<{ gateway: EmbeddedGateway; port: number }> {
    const gateway = await startGateway({ plugins: [retry, spy], args: ['--entrypoints.web.address=127.0.0.1:0'] });
    gateway.configure({
      http: {
        routers: { r: { rule: 'PathPrefix(`/`)', service: 's', middlewares: retryOptions ? ['retry', 'spy'] : ['spy'] } },
        services: { s: { loadBalancer: { servers: servers.map((url) => ({ url })) } } },
        middlewares: { spy: { spy: {} }, ...(retryOptions ? { retry: { retry: retryOptions } } : {}) },
      },
    });
    return { gateway, port: gateway.address('web').port };
  }

  test('sets the policy the load balancer reads', async () => {
    const { gateway, port } = await gatewayWith([goodUrl], { attempts: 3, initialInterval: '100ms' });
    try {
      policies.length = 0;
      assert.equal((await get(port)).status, 200);
      assert.deepEqual(policies, [
        { attempts: 3, initialIntervalMs: 100, maxIntervalMs: undefined, networkErrors: true, retryOn: undefined, nonIdempotent: false, timeoutMs: 0 },
      ]);
    } finally {
      await gateway.stop();
    }
  });

  test('a GET whose server closed the connection without answering is answered by another server', async () => {
    const withRetry = await gatewayWith([closerUrl, goodUrl], { attempts: 2 });
    const without = await gatewayWith([closerUrl, goodUrl], undefined);
    try {
      assert.deepEqual(await get(withRetry.port), { status: 200, body: 'good' });
      assert.deepEqual(await get(without.port), { status: 502, body: 'Bad Gateway' });
    } finally {
      await withRetry.gateway.stop();
      await without.gateway.stop();
    }
  });

  test('attempts: 1 never retries', async () => {
    const { gateway, port } = await gatewayWith([refusedUrl, goodUrl], { attempts: 1 });
    try {
      assert.equal((await get(port)).status, 502);
    } finally {
      await gateway.stop();
    }
  });

  test('the only server is tried again after the back-off, and answers once it is back', async () => {
    const { gateway, port } = await gatewayWith([refusedUrl], { attempts: 3, initialInterval: '200ms' });
    let revived: http.Server | undefined;
    try {
      // The server comes back as soon as the first attempt failed, well within the 200ms wait.
      gateway.once('upstreamFailure', () => {
        revived = http.createServer((_req, res) => res.end('revived'));
        revived.listen(Number(new URL(refusedUrl).port), '127.0.0.1');
      });
      assert.deepEqual(await get(port), { status: 200, body: 'revived' });
    } finally {
      await gateway.stop();
      if (revived) await closeServer(revived);
    }
  });
});

function get(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}
