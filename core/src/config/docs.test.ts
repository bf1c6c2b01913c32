// optionRows, optionTable and markedSection: the README tables every plugin renders from its schema.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Type, type TSchema } from '@sinclair/typebox';
import { markedSection, markedSections, optionRows, optionTable } from './docs.js';
import { Duration, MapOf, Secret, StringList } from './schema.js';

test('optionRows: table', async (t) => {
  const cases: { desc: string; schema: TSchema; prefix?: string; expected: string[] }[] = [
    {
      desc: 'scalars with their defaults, the prefix before every name, pipes escaped',
      schema: Type.Object({ port: Type.Integer({ default: 80, description: 'Port.' }), rule: Type.Optional(Type.String({ description: 'a|b' })) }),
      prefix: '--web.',
      expected: ['| `--web.port` | integer | `80` | Port. |', '| `--web.rule` | string |  | a\\|b |'],
    },
    {
      desc: 'durations, unions, secrets and lists',
      schema: Type.Object({
        timeout: Duration({ default: '1m30s', description: 'T.' }),
        mode: Type.Union([Type.Literal('keep'), Type.Literal('drop')], { default: 'keep' }),
        only: Type.Literal('http'),
        password: Secret(),
        hosts: StringList({ default: ['a', 'b'] }),
        none: StringList({ default: [] }),
      }),
      expected: [
        '| `timeout` | duration | `1m30s` | T. |',
        '| `mode` | `keep` \\| `drop` | `keep` |  |',
        '| `only` | `http` |  |  |',
        '| `password` | secret |  |  |',
        '| `hosts` | list | `a, b` |  |',
        '| `none` | list |  |  |',
      ],
    },
    {
      desc: 'nested objects flattened after their own row, which an undescribed object does not get',
      schema: Type.Object({
        auth: Type.Object({ user: Type.String() }, { default: {}, description: 'Auth.' }),
        plain: Type.Object({ on: Type.Boolean({ default: false }) }, { default: {} }),
      }),
      expected: ['| `auth` | object |  | Auth. |', '| `auth.user` | string |  |  |', '| `plain.on` | boolean | `false` |  |'],
    },
    {
      desc: 'maps are one <name> row typed by their values, described by the map, with object values flattened',
      schema: Type.Object({
        names: MapOf(Type.Union([Type.Literal('keep'), Type.Literal('drop')]), { default: {}, description: 'Per name.' }),
        options: MapOf(Type.Object({ min: Type.String({ default: 'v1' }) }), { description: 'Named.' }),
      }),
      expected: ['| `names.<name>` | `keep` \\| `drop` |  | Per name. |', '| `options.<name>` | object |  | Named. |', '| `options.<name>.min` | string | `v1` |  |'],
    },
  ];
  for (const c of cases) await t.test(c.desc, () => assert.deepEqual(optionRows(c.schema, c.prefix), c.expected));
});

test('optionTable adds the header', () => {
  assert.equal(optionTable(['| `a` | string |  |  |']), '| Option | Type | Default | Description |\n| --- | --- | --- | --- |\n| `a` | string |  |  |');
});

test('markedSection', () => {
  assert.equal(markedSection('x\n<!-- options:start -->\n| t |\n<!-- options:end -->\ny', 'options'), '| t |');
  assert.equal(markedSection('<!-- options:end --> <!-- options:start -->', 'options'), undefined);
  assert.equal(markedSection('no markers', 'options'), undefined);
});

test('markedSections: every named section, undefined where the markers are missing', () => {
  const readme = '<!-- a:start -->\n| a |\n<!-- a:end -->\n<!-- b:start -->| b |<!-- b:end -->';
  assert.deepEqual(markedSections(readme, ['a', 'b', 'c']), { a: '| a |', b: '| b |', c: undefined });
});
