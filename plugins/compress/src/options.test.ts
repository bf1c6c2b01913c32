// Options: labels and a YAML file decode to the same configuration, Traefik's checks name their field, zstd's
// absence from Node 20 is a warning naming the option, and the README table is the schema's.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway } from '@wharf/core';
import { decode, flatToTree, formatIssues, markedSection, optionRows, optionTable } from '@wharf/core/config';
import { eventually } from '@wharf/test-helpers';
import compress, { schema, usableEncodings, ZSTD_AVAILABLE, type CompressConfig } from './index.js';

const LABELS: Record<string, string> = {
  'wharf.http.middlewares.all.compress.encodings': 'br,gzip',
  'wharf.http.middlewares.all.compress.excludedcontenttypes': 'text/event-stream,image/png',
  'wharf.http.middlewares.all.compress.minResponseBodyBytes': '2048',
  'wharf.http.middlewares.all.compress.defaultEncoding': 'gzip',
  'wharf.http.middlewares.only.compress.includedContentTypes': 'application/json, text/html; charset=utf-8',
  'wharf.http.middlewares.bare.compress': 'true',
};

const YAML = `
http:
  middlewares:
    all:
      compress:
        encodings: [br, gzip]
        excludedContentTypes: [text/event-stream, image/png]
        minResponseBodyBytes: 2048
        defaultEncoding: gzip
    only:
      compress:
        includedContentTypes: [application/json, "text/html; charset=utf-8"]
    bare:
      compress: {}
`;

const dir = await mkdtemp(join(tmpdir(), 'wharf-compress-'));
const file = join(dir, 'dynamic.yml');
await writeFile(file, YAML);
const gateway = await startGateway({
  plugins: [compress],
  args: ['--entrypoints.web.address=127.0.0.1:0', `--providers.file.filename=${file}`, '--providers.file.watch=false'],
});
after(async () => {
  await gateway.stop();
  await rm(dir, { recursive: true, force: true });
});

function labelTree(labels: Record<string, string>): ReturnType<typeof flatToTree> {
  return flatToTree(Object.entries(labels).map(([k, v]) => [k.replace(/^wharf\./, ''), v]));
}

describe('compress options', () => {
  test('labels and a YAML file give the same configuration', async () => {
    gateway.configure(labelTree(LABELS));
    await eventually(() => gateway.info.middlewares['all@file'] !== undefined, 'the file provider');
    for (const name of ['all', 'only', 'bare']) {
      const fromLabels = gateway.info.middlewares[`${name}@inline`];
      const fromFile = gateway.info.middlewares[`${name}@file`];
      assert.equal(fromLabels?.status, 'enabled', JSON.stringify(fromLabels?.errors));
      assert.deepEqual(fromLabels?.config, fromFile?.config, name);
    }
    const config = (name: string) => (gateway.info.middlewares[`${name}@inline`]!.config as { compress: CompressConfig }).compress;
    assert.deepEqual(config('all'), {
      encodings: ['br', 'gzip'],
      excludedContentTypes: ['text/event-stream', 'image/png'],
      minResponseBodyBytes: 2048,
      defaultEncoding: 'gzip',
    });
    assert.deepEqual(config('only').includedContentTypes, ['application/json', 'text/html; charset=utf-8']);
    assert.deepEqual(config('bare'), { encodings: ['gzip', 'br', 'zstd'], minResponseBodyBytes: 1024 }, "Traefik's defaults");
  });

  const INVALID: Array<{ desc: string; config: unknown; expectedError: RegExp }> = [
    { desc: 'both type lists', config: { excludedContentTypes: ['text/html'], includedContentTypes: ['text/plain'] }, expectedError: /^excludedContentTypes and includedContentTypes: they are mutually exclusive/ },
    { desc: 'a bad excluded type', config: { excludedContentTypes: ['text/'] }, expectedError: /^excludedContentTypes: not a media type .*got "text\/"$/ },
    { desc: 'a bad included type', config: { includedContentTypes: ['text/html; charset'] }, expectedError: /^includedContentTypes: not a media type \(invalid media parameter/ },
    { desc: 'no encoding', config: { encodings: [] }, expectedError: /^encodings: at least one encoding must be specified \(gzip, br, zstd\)$/ },
    { desc: 'an unknown encoding', config: { encodings: ['gzip', 'deflate'] }, expectedError: /^encodings: unsupported encoding, got "deflate" \(supported: gzip, br, zstd\)$/ },
    { desc: 'a default encoding not offered', config: { encodings: ['gzip'], defaultEncoding: 'br' }, expectedError: /^defaultEncoding: must be one of encodings \(gzip\), got "br"$/ },
  ];
  for (const { desc, config, expectedError } of INVALID) {
    test(`validate rejects ${desc}`, () => {
      const { value, issues } = decode<CompressConfig>(schema, config);
      assert.deepEqual(issues, []);
      assert.throws(() => compress.validate!(value), (err: Error) => expectedError.test(err.message));
    });
  }

  test('accepted as Traefik accepts them: encodings in any case, minResponseBodyBytes 0', () => {
    for (const config of [{ encodings: ['GZIP', 'Br'], defaultEncoding: 'br' }, { minResponseBodyBytes: 0 }]) {
      const { value, issues } = decode<CompressConfig>(schema, config);
      assert.deepEqual(issues, []);
      assert.doesNotThrow(() => compress.validate!(value));
    }
  });

  test('schema errors name the label', () => {
    const { issues } = decode(schema, flatToTree([['minResponseBodyBytes', 'big'], ['encoding', 'gzip']]), {
      describe: (w) => `wharf.http.middlewares.c.compress.${w.join('.')}`,
    });
    const text = formatIssues(issues);
    assert.match(text, /compress\.minResponseBodyBytes: expected a whole number \(got "big"\)/);
    assert.match(text, /compress\.encoding: unknown field 'encoding' \(did you mean 'encodings'\?\)/);
  });

  test('a bad middleware disables only the routers that use it, with the message', () => {
    gateway.configure({
      http: {
        routers: { r: { rule: 'PathPrefix(`/`)', middlewares: ['bad'], service: 'noop@internal' } },
        middlewares: { bad: { compress: { encodings: ['lz4'] } } },
      },
    });
    const info = gateway.info.middlewares['bad@inline'];
    assert.equal(info?.status, 'disabled');
    assert.match(String(info?.errors), /encodings: unsupported encoding, got "lz4"/);
    assert.equal(gateway.info.routers['r@inline']?.status, 'disabled');
  });
});

describe('zstd where the runtime has none', () => {
  const resolve = (config: unknown) => {
    const warnings: string[] = [];
    const result = usableEncodings(decode<CompressConfig>(schema, config).value, { warn: (m: string) => void warnings.push(m) });
    return { ...result, warnings };
  };

  test('the default list drops it quietly (documented), or keeps it where node:zlib has it', () => {
    const { encodings, warnings } = resolve({});
    assert.deepEqual(encodings, ZSTD_AVAILABLE ? ['gzip', 'br', 'zstd'] : ['gzip', 'br']);
    assert.deepEqual(warnings, []);
  });

  test('listed explicitly: a warning naming encodings, or served', () => {
    const { encodings, warnings } = resolve({ encodings: ['zstd', 'gzip'] });
    if (ZSTD_AVAILABLE) {
      assert.deepEqual([encodings, warnings], [['zstd', 'gzip'], []]);
    } else {
      assert.deepEqual(encodings, ['gzip']);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /^encodings: zstd is not in this runtime's node:zlib \(Node 20\.[\d.]+; it has zstd from 22\.15\), so it is left out/);
    }
  });

  test('as the only encoding or the default one: warnings say what happens', () => {
    const only = resolve({ encodings: ['zstd'] });
    const byDefault = resolve({ encodings: ['gzip', 'zstd'], defaultEncoding: 'zstd' });
    if (ZSTD_AVAILABLE) {
      assert.deepEqual([only.warnings, byDefault.defaultEncoding], [[], 'zstd']);
    } else {
      assert.deepEqual(only.encodings, []);
      assert.match(only.warnings[0]!, /^encodings: .* it is the only encoding listed, so this middleware compresses nothing; add gzip or br$/);
      assert.equal(byDefault.defaultEncoding, undefined);
      assert.match(byDefault.warnings[1]!, /^defaultEncoding: .*so there is no default encoding/);
    }
  });
});

test('the README option table is the one the schema renders', async () => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  assert.equal(markedSection(readme, 'options'), optionTable(optionRows(schema)));
});
