import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Type } from '@sinclair/typebox';
import { decode, flatToTree, didYouMean } from './decode.js';
import { Duration, Element, MapOf, Section, StringList, parseDuration, formatDuration } from './schema.js';
import * as schemaHelpers from './schema.js';

const Router = Element(Type.Object({
  rule: Type.String({ minLength: 1 }),
  priority: Type.Optional(Type.Integer({ minimum: 0 })),
  entryPoints: Type.Optional(StringList()),
  tls: Type.Optional(Section(Type.Object({ options: Type.Optional(Type.String()) }, { additionalProperties: false }))),
}, { additionalProperties: false }));
const Root = Type.Object({
  routers: Type.Optional(MapOf(Router)),
  timeout: Type.Optional(Duration()),
  list: Type.Optional(Type.Array(Type.Object({ name: Type.String(), weight: Type.Integer({ default: 1 }) }, { additionalProperties: false }))),
  ping: Type.Optional(Section(Type.Object({ entryPoint: Type.String({ default: 'traefik' }) }, { additionalProperties: false }))),
  enabled: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });

const labels = (o: Record<string, string>) => flatToTree(Object.entries(o));
const describe = (w: string[]) => `wharf.${w.join('.')}`;

test('decode: table', async (t) => {
  const cases: { desc: string; input: unknown; expected?: unknown; issues?: string[]; disabled?: Record<string, string[]> }[] = [
    {
      desc: 'labels with mixed case merge into one router, lists comma-split, integers coerced',
      input: labels({ 'Routers.API.Rule': 'Host(`a`)', 'routers.api.priority': '10', 'routers.api.entrypoints': 'web, websecure' }),
      expected: { routers: { API: { rule: 'Host(`a`)', priority: 10, entryPoints: ['web', 'websecure'] } } },
    },
    {
      desc: 'a section enabled by true gets its defaults; false leaves it out',
      input: labels({ ping: 'true', enabled: 'TRUE' }),
      expected: { ping: { entryPoint: 'traefik' }, enabled: true },
    },
    { desc: 'section =false omitted', input: labels({ ping: 'false' }), expected: {} },
    { desc: 'section ={} enabled', input: labels({ ping: '{}' }), expected: { ping: { entryPoint: 'traefik' } } },
    {
      desc: 'value and children on one node: tls=true and tls.options',
      input: labels({ 'routers.r.rule': 'Path(`/`)', 'routers.r.tls': 'true', 'routers.r.tls.options': 'modern' }),
      expected: { routers: { r: { rule: 'Path(`/`)', tls: { options: 'modern' } } } },
    },
    { desc: 'durations: Go style and plain seconds', input: { timeout: '1m30s' }, expected: { timeout: 90_000 } },
    { desc: 'duration as number of seconds from a file', input: { timeout: 2 }, expected: { timeout: 2000 } },
    { desc: 'duration default', input: { enabled: false }, expected: { enabled: false } },
    {
      desc: 'indexes sort numerically ([2] before [10]) and defaults fill list items',
      input: labels({ 'list[10].name': 'ten', 'list[2].name': 'two', 'list[2].weight': '3' }),
      expected: { list: [{ name: 'two', weight: 3 }, { name: 'ten', weight: 1 }] },
    },
    {
      desc: 'unknown field outside elements is a root issue naming the label with a suggestion',
      input: labels({ pnig: 'true' }),
      issues: ["wharf.pnig: unknown field 'pnig' (did you mean 'ping'?)"],
    },
    {
      desc: 'bad value inside an element disables only that element',
      input: labels({ 'routers.good.rule': 'Path(`/`)', 'routers.bad.rule': 'Path(`/`)', 'routers.bad.priority': 'high' }),
      expected: { routers: { good: { rule: 'Path(`/`)' } } },
      disabled: { 'routers.bad': ['wharf.routers.bad.priority: expected a whole number (got "high")'] },
    },
    {
      desc: 'missing required field is reported by the validator with the label path',
      input: labels({ 'routers.r.priority': '1' }),
      expected: { routers: {} },
      disabled: { 'routers.r': ['wharf.routers.r.rule: is required'] },
    },
    {
      desc: 'constraint violations name the field',
      input: labels({ 'routers.r.rule': 'Path(`/`)', 'routers.r.priority': '-1' }),
      expected: { routers: {} },
      disabled: { 'routers.r': ['wharf.routers.r.priority: must be >= 0'] },
    },
    { desc: 'bad boolean', input: labels({ enabled: 'yes' }), issues: ['wharf.enabled: expected true or false (got "yes")'] },
    { desc: 'bad duration', input: labels({ timeout: '5 minutes' }), issues: ['wharf.timeout: expected a duration such as 10s, 500ms, 1m30s or a number of seconds (got "5 minutes")'] },
  ];
  for (const c of cases) {
    await t.test(c.desc, () => {
      const result = decode(Root, c.input, { describe });
      assert.deepEqual(result.issues.map((i) => `${i.source}: ${i.message}`), c.issues ?? []);
      if (c.expected !== undefined) assert.deepEqual(result.value, c.expected);
      const disabled = Object.fromEntries([...result.disabled].map(([k, v]) => [k, v.map((i) => `${i.source}: ${i.message}`)]));
      assert.deepEqual(disabled, c.disabled ?? {});
    });
  }
});

test('parseDuration and formatDuration', () => {
  assert.equal(parseDuration('10s'), 10_000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('1h2m3s'), 3_723_000);
  assert.equal(parseDuration('2.5s'), 2500);
  assert.equal(parseDuration('7'), 7000);
  assert.equal(parseDuration('7x'), undefined);
  assert.equal(parseDuration(''), undefined);
  assert.equal(formatDuration(90_000), '1m30s');
  assert.equal(formatDuration(500), '500ms');
});

test('didYouMean', () => {
  assert.equal(didYouMean('ratelimt', ['rateLimit', 'headers']), 'rateLimit');
  assert.equal(didYouMean('zzz', ['rateLimit', 'headers']), undefined);
});

test('a secret value is never echoed in an error message', () => {
  const { Secret } = schemaHelpers;
  const Pin = { ...Type.Integer(), [schemaHelpers.SECRET]: true };
  const Schema = Type.Object({ password: Type.Optional(Secret({ minLength: 100 })), pin: Type.Optional(Pin), port: Type.Optional(Type.Integer()) }, { additionalProperties: false });
  const bad = decode(Schema, { pin: 's3cr3t-value' });
  assert.equal(bad.issues.length, 1);
  assert.match(bad.issues[0]!.message, /expected a whole number$/);
  assert.doesNotMatch(JSON.stringify(bad.issues), /s3cr3t/);
  const short = decode(Schema, { password: 's3cr3t-value' });
  assert.equal(short.issues.length, 1);
  assert.doesNotMatch(JSON.stringify(short.issues), /s3cr3t/);
  const port = decode(Schema, { port: 'eighty' });
  assert.match(port.issues[0]!.message, /got "eighty"/, 'non-secret values are still shown');
});
