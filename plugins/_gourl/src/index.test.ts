// Go's net/url path rules and regexp replacement, as tables of what Go returns for the same input.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalHeaderKey, cleanPath, compileGoRegexp, encodedPrefixLength, escapePath, escapedPath, joinPath, replaceAllGo, sanitized, setPath, unescapePath } from './index.js';

describe('paths (net/url)', () => {
  test('setPath keeps the raw form only when it is not the default encoding', () => {
    const cases = [
      { raw: '/a/b', expected: { path: '/a/b', rawPath: '' } },
      { raw: '/a%20b', expected: { path: '/a b', rawPath: '' } },
      { raw: '/a%2Fb', expected: { path: '/a/b', rawPath: '/a%2Fb' } },
      { raw: '/%61', expected: { path: '/a', rawPath: '/%61' } },
      { raw: '/caf%C3%A9', expected: { path: '/café', rawPath: '' } },
    ];
    for (const { raw, expected } of cases) assert.deepEqual(setPath(raw), expected, raw);
  });

  test('unescape refuses a bad escape with Go\'s message', () => {
    assert.throws(() => unescapePath('/a%zz'), { message: 'invalid URL escape "%zz"' });
    assert.throws(() => unescapePath('/a%4'), { message: 'invalid URL escape "%4"' });
  });

  test('EscapedPath', () => {
    const cases = [
      { desc: 'raw form kept when valid', url: { path: '/a/b', rawPath: '/a%2Fb' }, expected: '/a%2Fb' },
      { desc: 'default encoding without raw form', url: { path: '/a b?', rawPath: '' }, expected: '/a%20b%3F' },
      { desc: 'raw form that no longer decodes to the path is dropped', url: { path: '/x', rawPath: '/a%2Fb' }, expected: '/x' },
      { desc: 'raw form with a space is not valid', url: { path: '/a b', rawPath: '/a b' }, expected: '/a%20b' },
      { desc: 'brackets are valid in a raw form', url: { path: '/[x]', rawPath: '/[x]' }, expected: '/[x]' },
      { desc: 'empty', url: { path: '', rawPath: '' }, expected: '' },
    ];
    for (const c of cases) assert.equal(escapedPath(c.url), c.expected, c.desc);
  });

  test('path.Clean', () => {
    const cases: Array<[string, string]> = [
      ['', '.'], ['/', '/'], ['//a//b/', '/a/b'], ['/a/./b', '/a/b'], ['/a/../../b', '/b'], ['a/../..', '..'], ['/..', '/'],
    ];
    for (const [input, expected] of cases) assert.equal(cleanPath(input), expected, input);
  });

  test('sanitized: a rewritten path must already be clean (Traefik answers 400 otherwise)', () => {
    assert.deepEqual(sanitized({ path: '/a/b/', rawPath: '' }), { path: '/a/b/', rawPath: '' });
    assert.equal(sanitized({ path: '//b', rawPath: '' }), undefined);
    assert.equal(sanitized({ path: '/a/../b', rawPath: '' }), undefined);
    // Encoded dots are not path elements for JoinPath: allowed, as in Traefik.
    assert.deepEqual(sanitized(setPath('/a/%2E%2E/b')), setPath('/a/%2E%2E/b'));
    assert.deepEqual(sanitized({ path: '', rawPath: '' }), { path: '', rawPath: '' });
  });

  test('encodedPrefixLen counts one decoded byte per escape', () => {
    assert.equal(encodedPrefixLength('/a%2Fb/c', '/a/b'), 6);
    assert.equal(encodedPrefixLength('/caf%C3%A9/x', '/café'), 10);
    assert.equal(encodedPrefixLength('/ab', '/abcd'), 3);
  });
});

describe('regexp (Go semantics over RE2)', () => {
  test('ReplaceAllString with Go templates', () => {
    const cases: Array<{ desc: string; re: string; src: string; repl: string; expected: string }> = [
      { desc: '$1 and ${1}', re: '^/(a)(b)', src: '/abc', repl: '/${1}x$2', expected: '/axbc' },
      { desc: '$1x is the group named 1x: empty', re: '(a)', src: 'a', repl: '$1x', expected: '' },
      { desc: '$$ is a dollar', re: 'a', src: 'a', repl: '$$1', expected: '$1' },
      { desc: 'malformed $ is literal', re: 'a', src: 'a', repl: '$-${', expected: '$-${' },
      { desc: 'a missing group is empty', re: '^http://', src: 'http://foo', repl: 'https://$1', expected: 'https://foo' },
      { desc: 'named groups', re: '(?P<first>\\w+) (?P<second>\\w+)', src: 'hello world', repl: '${second} $first', expected: 'world hello' },
      { desc: 'every match is replaced', re: 'a', src: 'banana', repl: 'o', expected: 'bonono' },
      { desc: 'empty matches, not twice after a match', re: 'a*', src: 'baaac', repl: 'x', expected: 'xbxcx' },
      { desc: 'leading zero is a name, not 01', re: '(a)', src: 'a', repl: '[$01]', expected: '[]' },
    ];
    for (const c of cases) assert.equal(replaceAllGo(compileGoRegexp('regex', c.re), c.src, c.repl), c.expected, c.desc);
  });

  test('an invalid or RE2-unsupported pattern names the field', () => {
    assert.throws(() => compileGoRegexp('regex', '^(.*'), /^Error: regex: invalid regular expression `\^\(\.\*`: missing closing \)/);
    assert.throws(() => compileGoRegexp('regex', '(?=x)'), /^Error: regex: invalid regular expression `\(\?=x\)`/);
    assert.throws(() => compileGoRegexp('regex', '(a)\\1'), /^Error: regex: invalid regular expression/);
  });
});

describe('fast paths agree with the full computation', () => {
  // Generated plain paths (Go's unescaped path characters, with empty, `.` and `..` segments mixed in).
  const alphabet = ['a', 'Z', '9', '-', '_', '.', '~', '$', '&', '+', ',', ':', ';', '=', '@', '/', '..', '/./', '//'];
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const paths = Array.from({ length: 2000 }, () => {
    const parts = Array.from({ length: 1 + Math.floor(random() * 8) }, () => alphabet[Math.floor(random() * alphabet.length)]!);
    return (random() < 0.9 ? '/' : '') + parts.join('');
  });

  test('setPath of a plain path is the path itself, as decoding and re-encoding give', () => {
    for (const p of paths) {
      const path = unescapePath(p);
      assert.deepEqual(setPath(p), { path, rawPath: escapePath(path) === p ? '' : p }, p);
    }
  });

  test('sanitized of a plain path equals the cleaned round trip', () => {
    for (const p of paths) {
      const joined = joinPath({ path: p, rawPath: '' });
      assert.deepEqual(sanitized({ path: p, rawPath: '' }), p === '' ? { path: p, rawPath: '' } : joined.path === p ? joined : undefined, p);
    }
  });
});

describe('canonicalHeaderKey', () => {
  const cases: Array<[string, string]> = [
    ['user-agent', 'User-Agent'],
    ['x-REQUEST-id', 'X-Request-Id'],
    ['content-md5', 'Content-Md5'],
    ['x_under', 'X_under'],
    ['bad name', 'bad name'],
  ];
  for (const [input, expected] of cases) test(`${input} → ${expected}`, () => assert.equal(canonicalHeaderKey(input), expected));
});
