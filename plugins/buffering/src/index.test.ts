// buffering's options from labels and files, and the configuration errors that disable its routers.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from '@wharf/core';
import { decode, flatToTree } from '@wharf/core/config';
import buffering, { schema } from './index.js';

const labels = (o: Record<string, string>) => flatToTree(Object.entries(o));
const DEFAULTS = { maxRequestBodyBytes: 0, memRequestBodyBytes: 1048576, maxResponseBodyBytes: 0, memResponseBodyBytes: 1048576, retryExpression: '' };

describe('options', () => {
  const cases: Array<{ desc: string; input: unknown; expected?: unknown; issues?: string[] }> = [
    { desc: 'no options: Traefik defaults', input: {}, expected: DEFAULTS },
    {
      desc: 'labels, any case',
      input: labels({ MaxRequestBodyBytes: '2000000', memrequestbodybytes: '65536', maxResponseBodyBytes: '10', memResponseBodyBytes: '0', retryExpression: 'IsNetworkError() && Attempts() < 2' }),
      expected: { maxRequestBodyBytes: 2000000, memRequestBodyBytes: 65536, maxResponseBodyBytes: 10, memResponseBodyBytes: 0, retryExpression: 'IsNetworkError() && Attempts() < 2' },
    },
    { desc: 'a file', input: { maxRequestBodyBytes: 2000000 }, expected: { ...DEFAULTS, maxRequestBodyBytes: 2000000 } },
    { desc: 'a size that is not a number', input: labels({ maxRequestBodyBytes: '2MB' }), issues: ['maxRequestBodyBytes: expected a whole number (got "2MB")'] },
    { desc: 'a negative size', input: { memResponseBodyBytes: -1 }, issues: ['memResponseBodyBytes: must be >= 0'] },
    { desc: 'an unknown option', input: { disableRequestBuffer: true }, issues: ["disableRequestBuffer: unknown field 'disableRequestBuffer' (known: maxRequestBodyBytes, memRequestBodyBytes, maxResponseBodyBytes, memResponseBodyBytes, retryExpression)"] },
  ];
  for (const { desc, input, expected, issues } of cases) {
    test(desc, () => {
      const result = decode(schema, input);
      assert.deepEqual(result.issues.map((i) => `${i.source}: ${i.message}`), issues ?? []);
      if (expected !== undefined) assert.deepEqual(result.value, expected);
    });
  }

  test('a retryExpression that does not parse disables the middleware and its routers, pointing at the position', async () => {
    const gateway = await startGateway({ plugins: [buffering], args: ['--entrypoints.web.address=127.0.0.1:0'] });
    try {
      gateway.configure({
        http: {
          routers: { r: { rule: 'PathPrefix(`/`)', service: 's', middlewares: ['bad'] }, ok: { rule: 'Path(`/ok`)', service: 's' } },
          services: { s: { loadBalancer: { servers: [{ url: 'http://127.0.0.1:1' }] } } },
          middlewares: { bad: { buffering: { retryExpression: 'IsNetworkError() && Retries() < 2' } } },
        },
      });
      assert.deepEqual(gateway.info.middlewares['bad@inline']?.errors, [
        'buffering.retryExpression: unsupported function Retries (use IsNetworkError(), Attempts(), ResponseCode(), RequestMethod()) at position 21: IsNetworkError() && ⟨here⟩Retries() < 2',
      ]);
      assert.equal(gateway.info.routers['r@inline']?.status, 'disabled');
      assert.equal(gateway.info.routers['ok@inline']?.status, 'enabled');
    } finally {
      await gateway.stop();
    }
  });
});
