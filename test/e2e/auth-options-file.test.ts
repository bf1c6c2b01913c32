// Issue #16's middlewares configured from a YAML file with bad values: each error names the file, the middleware and
// the option (or the entry) and what was expected; only the routers using that middleware are disabled.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from 'wharf';
import type { EmbeddedGateway } from '@wharf/core';
import { eventually, get, startBackend, tempDir, type Backend, type TempDir } from '@wharf/test-helpers';

// router name → [middleware options, the error expected on the router]
const BAD: Record<string, [options: string, error: RegExp]> = {
  basic: ['basicAuth: { users: ["test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/"], removeHeader: "yes" }', /dynamic\.yml: http\.middlewares\.basic\.basicAuth\.removeHeader: expected true or false \(got "yes"\)/],
  digest: ['digestAuth: { users: ["test:a2688e031edb4be6a3797f3882655c05"] }', /middleware 'digest@file' is disabled: users: entry 1 is not 'name:realm:HA1'/],
  allow: ['ipAllowList: { sourceRange: ["10.0.0.0/33"] }', /middleware 'allow@file' is disabled: sourceRange: '10\.0\.0\.0\/33' is not an IP address or CIDR range/],
  strategy: ['ipAllowList: { sourceRange: ["10.0.0.0/8"], ipStrategy: { depth: -1 }, rejectStatusCode: 999 }', /ipAllowList\.ipStrategy\.depth: must be >= 0; .*ipAllowList\.rejectStatusCode: must be <= 599/],
  legacy: ['ipWhiteList: { sourceRange: ["10.0.0.0/8"], rejectStatusCode: 404 }', /http\.middlewares\.legacy\.ipWhiteList\.rejectStatusCode: unknown field 'rejectStatusCode'/],
  few: ['inFlightReq: { amount: "ten" }', /http\.middlewares\.few\.inFlightReq\.amount: expected a whole number \(got "ten"\)/],
  cert: ['passTLSClientCert: { pem: maybe, info: { subject: { commonNam: true } } }', /passTLSClientCert\.pem: expected true or false \(got "maybe"\); .*passTLSClientCert\.info\.subject\.commonNam: unknown field 'commonNam' \(did you mean 'commonName'\?\)/],
  gate: ['forwardAuth: { address: "http://127.0.0.1:9/verify", maxBodySize: -2 }', /http\.middlewares\.gate\.forwardAuth\.maxBodySize: must be >= -1/],
  cors: ['headers: { accessControlMaxAge: "a day" }', /http\.middlewares\.cors\.headers\.accessControlMaxAge: expected a whole number \(got "a day"\)/],
};

let dir: TempDir;
let backend: Backend;
let gateway: EmbeddedGateway;

before(async () => {
  dir = tempDir('wharf-e2e-auth-file-');
  backend = await startBackend('b');
  const names = Object.keys(BAD);
  const yaml = [
    'http:',
    '  routers:',
    '    open: { rule: "Host(`open.test`)", service: b }',
    ...names.map((n) => `    ${n}: { rule: "Host(\`${n}.test\`)", middlewares: [${n}], service: b }`),
    '  middlewares:',
    ...names.map((n) => `    ${n}: { ${BAD[n]![0]} }`),
    '  services:',
    `    b: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }`,
  ].join('\n');
  gateway = await startGateway({ args: ['--entrypoints.web.address=127.0.0.1:0', `--providers.file.filename=${dir.write('dynamic.yml', yaml)}`] });
  await eventually(() => gateway.info.routers['open@file']?.status === 'enabled', 'the file configuration applied');
});

after(async () => {
  await gateway.stop();
  await backend.close();
  dir.remove();
});

test('bad values from a file name the file, the middleware and the option; only their routers are disabled', async () => {
  for (const [name, [, error]] of Object.entries(BAD)) {
    const router = gateway.info.routers[`${name}@file`];
    assert.equal(router?.status, 'disabled', name);
    assert.match(router?.errors?.join('\n') ?? '', error, name);
    assert.equal((await get(gateway.address('web').port, '/', `${name}.test`)).status, 404, `${name}: not routed`);
  }
  assert.equal((await get(gateway.address('web').port, '/', 'open.test')).status, 200, 'the other router works');
});
