// What Wharf does not run yet is said in two places a user reads, `wharf --help` and the README: they must agree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { UNSUPPORTED } from 'wharf';
import { runWharf } from '@wharf/test-helpers';

const README = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

test("the README's 'Not supported yet' list is wharf's UNSUPPORTED list, and --help prints it", async () => {
  const section = README.slice(README.indexOf('### Not supported yet'));
  const listed = section.split('\n\n')[2]!.split('\n').map((line) => line.replace(/^- /, ''));
  assert.deepEqual(listed, [...UNSUPPORTED]);
  const help = await runWharf(['--help']);
  for (const line of UNSUPPORTED) assert.ok(help.stdout.includes(line), `--help lacks: ${line}`);
});
