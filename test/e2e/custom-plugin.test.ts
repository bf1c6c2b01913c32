// End-to-end custom plugins in the CLI: loaded by path, package name or Traefik's localPlugins, used in both config forms.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { get, json, ROOT, runWharf, spawnWharf, startBackend, tempDir, type Backend, type EchoBody, type Exit, type TempDir, type WharfProcess } from '@wharf/test-helpers';

const EXAMPLE_DIR = join(ROOT, 'examples', 'custom-plugin');

type Run = Exit & { stdout: string; stderr: string };

/** Dynamic file using middleware `m` either as `m.requestId` or as `m.plugin.requestId`. */
function dynamicYaml(backendUrl: string, form: 'direct' | 'plugin'): string {
  const options = '{ prefix: "req-", headerName: X-Trace-Id }';
  const middleware = form === 'direct' ? `requestId: ${options}` : `plugin:\n        requestId: ${options}`;
  return `http:
  routers:
    all:
      rule: PathPrefix(\`/\`)
      service: s
      middlewares: [m]
  middlewares:
    m:
      ${middleware}
  services:
    s:
      loadBalancer:
        servers:
          - url: ${backendUrl}
`;
}

describe('custom plugins loaded by the wharf command', () => {
  let backend: Backend;
  let dir: TempDir;
  // Launched together in before() so their start-ups overlap; each test checks one.
  let byPath: WharfProcess;
  let byPackage: WharfProcess;
  let byLocalPlugins: WharfProcess;
  let notAPlugin: Promise<Run>;
  let missing: Promise<Run>;
  let misnamed: Promise<Run>;

  /** Starts wharf with `pluginArgs` and a dynamic file using the middleware in `form`. */
  function startWith(pluginArgs: string[], form: 'direct' | 'plugin', cwd = ROOT): WharfProcess {
    const file = dir.write(`dynamic-${form}.yml`, dynamicYaml(backend.url, form));
    return spawnWharf(['--entrypoints.web.address=127.0.0.1:0', `--providers.file.filename=${file}`, '--providers.providersThrottleDuration=50ms', ...pluginArgs], { cwd });
  }

  before(async () => {
    backend = await startBackend('custom');
    dir = tempDir();
    // Relative to the working directory, not to the core package or the repository root.
    byPath = startWith(['--plugins.requestId.module=./dist/index.js'], 'direct', EXAMPLE_DIR);
    byPackage = startWith(['--plugins.requestId.module=@wharf/example-custom-plugin'], 'plugin');
    byLocalPlugins = startWith(['--experimental.localPlugins.requestId.moduleName=./examples/custom-plugin/dist/index.js'], 'direct');
    const notPluginFile = dir.write('not-a-plugin.mjs', 'export const answer = 42;\n');
    notAPlugin = runWharf(['--entrypoints.web.address=127.0.0.1:0', `--plugins.answer.module=${notPluginFile}`]);
    missing = runWharf(['--entrypoints.web.address=127.0.0.1:0', '--plugins.nope.module=./no/such/plugin.js']);
    misnamed = runWharf(['--entrypoints.web.address=127.0.0.1:0', '--plugins.traceId.module=@wharf/example-custom-plugin']);
  });

  after(async () => {
    await Promise.all([byPath.stop(), byPackage.stop(), byLocalPlugins.stop(), notAPlugin, missing, misnamed]);
    await backend.close();
    dir.remove();
  });

  /** The id is generated with the configured prefix and header, sent to the backend and back to the client. */
  async function assertRequestIdWorks(wharf: WharfProcess): Promise<void> {
    const port = await wharf.port();
    await wharf.waitFor(/applied: 1 routers, 1 services, 1 middlewares/);
    const reply = await get(port, '/hello');
    assert.equal(reply.status, 200, reply.body);
    const id = reply.headers['x-trace-id'];
    assert.match(String(id), /^req-[0-9a-f-]{36}$/);
    assert.equal(json<EchoBody>(reply).headers['x-trace-id'], id);
  }

  test('--plugins.<name>.module with a path relative to the working directory, used as http.middlewares.m.requestId', async () => {
    await assertRequestIdWorks(byPath);
  });

  test('--plugins.<name>.module with a package name, used as http.middlewares.m.plugin.requestId', async () => {
    await assertRequestIdWorks(byPackage);
  });

  test('Traefik form: --experimental.localPlugins.<name>.moduleName', async () => {
    await assertRequestIdWorks(byLocalPlugins);
  });

  test('a module that is not a plugin is a clear start-up error', async () => {
    const result = await notAPlugin;
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /plugin module '.*not-a-plugin\.mjs' must export default definePlugin\(\{ name, schema, create \}\)/);
    assert.doesNotMatch(result.stdout, /listening on/);
  });

  test('a missing module and a name that is not the plugin\'s are start-up errors', async () => {
    const notFound = await missing;
    assert.notEqual(notFound.code, 0);
    assert.match(notFound.stderr, /plugin module '\.\/no\/such\/plugin\.js' failed to load|cannot find plugin module '\.\/no\/such\/plugin\.js'/);
    const wrongName = await misnamed;
    assert.notEqual(wrongName.code, 0);
    assert.match(wrongName.stderr, /defines plugin 'requestId'; use --plugins\.requestId\.module=@wharf\/example-custom-plugin/);
  });
});
