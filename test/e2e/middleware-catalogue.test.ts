// The root README's middleware catalogue keeps up with the code: every middleware type the dynamic schema accepts (the
// built-in plugins' and core's `plugin`) and every one of Traefik's has a row, and a row marked done links a plugin README
// that exists and names types Wharf registers.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dynamicSchema, PluginRegistry } from '@wharf/core/config';
import { builtinPlugins } from 'wharf';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const HEADING = '## Middleware catalogue';

// Traefik Proxy v3.7's HTTP middleware types settable from labels and files (pkg/config/dynamic/middlewares.go).
const TRAEFIK_MIDDLEWARES = [
  'addPrefix', 'stripPrefix', 'stripPrefixRegex', 'replacePath', 'replacePathRegex', 'chain', 'ipWhiteList', 'ipAllowList',
  'headers', 'encodedCharacters', 'errors', 'rateLimit', 'redirectRegex', 'redirectScheme', 'basicAuth', 'digestAuth',
  'forwardAuth', 'inFlightReq', 'buffering', 'circuitBreaker', 'compress', 'passTLSClientCert', 'retry', 'contentType',
  'grpcWeb', 'plugin',
];

interface Row {
  names: string[];
  state: string;
}

/** The catalogue's rows: the `names` in the first cell's backticks, the state cell as written. */
function catalogue(readme: string): Row[] {
  const start = readme.indexOf(`\n${HEADING}\n`);
  assert.notEqual(start, -1, `README.md has no '${HEADING}' section`);
  const end = readme.indexOf('\n## ', start + 1);
  const lines = readme.slice(start, end === -1 ? undefined : end).split('\n');
  const rows = lines.filter((l) => l.startsWith('| ') && !l.startsWith('| middleware |'));
  return rows.map((line) => {
    const [first = '', state = ''] = line.slice(1, -1).split('|').map((c) => c.trim());
    return { names: [...first.matchAll(/`([^`]+)`/g)].map((m) => m[1]!), state };
  });
}

/** The middleware types a `http.middlewares.<name>` entry may have, as core's dynamic schema lists them. */
function schemaMiddlewareTypes(registry: PluginRegistry): string[] {
  type Node = { properties?: Record<string, Node>; additionalProperties?: Node };
  const schema = dynamicSchema(registry) as unknown as Node;
  const entry = schema.properties?.http?.properties?.middlewares?.additionalProperties;
  assert.ok(entry?.properties, 'dynamic schema: no http.middlewares.<name> properties (did its shape change?)');
  return Object.keys(entry.properties);
}

describe('README middleware catalogue', () => {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const rows = catalogue(readme);
  const named = new Set(rows.flatMap((r) => r.names));
  const registry = new PluginRegistry();
  for (const plugin of builtinPlugins) registry.register(plugin);
  const registered = new Set(registry.middlewares().map((p) => p.name));

  test('the section is found and has rows', () => {
    assert.ok(rows.length >= TRAEFIK_MIDDLEWARES.length - 2, `only ${rows.length} rows under '${HEADING}'`);
    for (const row of rows) assert.ok(row.names.length > 0 && row.state !== '', `a row without \`names\` or state: ${JSON.stringify(row)}`);
  });

  test('every middleware type of the dynamic schema has a row', () => {
    const missing = schemaMiddlewareTypes(registry).filter((type) => !named.has(type));
    assert.deepEqual(missing, [], `README.md '${HEADING}': add a row (with its state) for ${missing.join(', ')}`);
  });

  test('every Traefik v3.7 middleware has a row', () => {
    const missing = TRAEFIK_MIDDLEWARES.filter((type) => !named.has(type));
    assert.deepEqual(missing, [], `README.md '${HEADING}': add a row (with its state) for ${missing.join(', ')}`);
  });

  test('a done row links a plugin README that exists and names registered types only', () => {
    const done = rows.filter((r) => r.state.startsWith('done'));
    assert.ok(done.length > 0, 'no row is marked done');
    for (const row of done) {
      const link = /\]\((plugins\/[^)]+\/README\.md)\)/.exec(row.state);
      assert.ok(link, `${row.names.join(', ')}: a done row links its plugin's README (plugins/<folder>/README.md)`);
      assert.ok(existsSync(join(REPO, link[1]!)), `${row.names.join(', ')}: ${link[1]} does not exist`);
      const unknown = row.names.filter((n) => !registered.has(n));
      assert.deepEqual(unknown, [], `${unknown.join(', ')}: marked done but not a middleware type the wharf command registers`);
    }
  });

  test('no registered middleware is marked not planned', () => {
    const contradicted = rows.filter((r) => r.state.startsWith('not planned') && r.names.some((n) => registered.has(n)));
    assert.deepEqual(contradicted.map((r) => r.names.join(', ')), [], 'registered, so its state is done or in progress');
  });
});
