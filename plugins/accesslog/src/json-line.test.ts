// The straight json writer against its definition: JSON.stringify of the field object (formatJSON), over
// generated exchanges and field configurations, awkward strings included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Exchange } from './exchange.js';
import { compileFields, FIELD_NAMES } from './fields.js';
import { formatJSON } from './format.js';
import { jsonString } from './json-line.js';
import type { AccessLogConfig } from './schema.js';

/** Deterministic choices (mulberry32), so a failure names a case that reproduces. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Strings a client or a configuration can bring: quotes, backslashes, controls, Latin-1 (Node's decoding of raw
// bytes), astral and lone surrogates, DEL.
const AWKWARD = ['plain', '', 'a"b', 'back\\slash', 'tab\there', 'nl\n', '\u0000\u001f', 'caf\u00e9', '\u{1f600}', 'lone\ud800', 'end\udfff', 'del\u007f', '/p?q=1&r="2"#f'];

function exchangeFor(pick: <T>(values: readonly T[]) => T, chance: (p: number) => boolean): Exchange {
  const headers: Record<string, string | string[]> = { 'user-agent': pick(AWKWARD), referer: pick(AWKWARD), authorization: 'Bearer secret', 'x-api-key': 'k' };
  const hostHeader = pick([undefined, 'example.com', 'example.com:8443', '[::1]:80', '[::1]', 'a"b:1', pick(AWKWARD)]);
  if (hostHeader !== undefined) headers.host = hostHeader;
  if (chance(0.3)) headers['x-forwarded-for'] = pick(['203.0.113.9', '203.0.113.9, 10.0.0.1', pick(AWKWARD)]);
  const answered = chance(0.6);
  const upstream = chance(0.8)
    ? { url: pick(['http://10.0.0.2:8080', 'https://svc.internal/base', 'not a url']), bytes: pick([0, 35, 1 << 20]), ...(answered ? { status: pick([200, 404, 500]), durationNs: BigInt(pick([0, 1234567, 98765432101])) } : {}) }
    : undefined;
  const protocol = pick(['TLSv1.3', 'TLSv1.2', null]);
  const cipher = chance(0.8) ? { standardName: 'TLS_AES_128_GCM_SHA256' } : undefined;
  const socket = chance(0.3) ? { remotePort: 443, encrypted: true, getProtocol: () => protocol, getCipher: () => cipher } : { remotePort: pick([undefined, 51234]) };
  const written = { 'Content-Type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] };
  const own = { 'content-type': 'text/html', 'x-served-by': pick(AWKWARD) };
  return {
    ctx: {
      req: { headers, method: pick(['GET', 'POST', undefined]), httpVersion: pick(['1.1', '2.0', '1.0']), id: pick([1, 987654, 'req-"7"', undefined]) },
      res: { getHeaders: () => ({ ...own }) },
      wharf: {
        entrypoint: pick(['web', 'web"secure']),
        router: pick([undefined, 'api@docker', pick(AWKWARD)]),
        service: pick([undefined, 'api@docker', 'noop@internal']),
        clientIP: pick(['127.0.0.1', '2001:db8::1']),
        trustForwarded: chance(0.5),
        retryAttempts: pick([0, 2]),
        upstream,
      },
    },
    socket,
    startMs: Date.UTC(2026, 10, 28, 12, 0, 0) + pick([0, 5, 120, 999]),
    target: pick(['/', '/api/v1?x=1', pick(AWKWARD)]),
    bytesIn: pick([0, 17]),
    bytesOut: pick([0, 35, 1e6]),
    routed: true,
    originHeaders: chance(0.5) ? { 'content-type': 'text/plain', server: pick(AWKWARD) } : undefined,
    writtenHeaders: chance(0.5) ? written : undefined,
    status: pick([101, 200, 429, 499, 502]),
    durationNs: pick([0, 1500, 6721120, 123e9]),
  } as unknown as Exchange;
}

function configFor(pick: <T>(values: readonly T[]) => T, chance: (p: number) => boolean): AccessLogConfig['fields'] {
  const names: Record<string, 'keep' | 'drop'> = {};
  for (const name of FIELD_NAMES) if (chance(0.15)) names[chance(0.5) ? name : name.toLowerCase()] = pick(['keep', 'drop'] as const);
  const headerNames: Record<string, 'keep' | 'drop' | 'redact'> = {};
  if (chance(0.5)) headerNames['User-Agent'] = pick(['keep', 'drop', 'redact'] as const);
  if (chance(0.5)) headerNames.Authorization = pick(['keep', 'drop', 'redact'] as const);
  if (chance(0.5)) headerNames['content-type'] = pick(['keep', 'redact'] as const);
  return {
    defaultMode: pick(['keep', 'drop'] as const),
    names,
    headers: { defaultMode: pick(['drop', 'keep', 'redact'] as const), names: headerNames },
    queryParameters: { defaultMode: pick(['keep', 'drop', 'redact'] as const), names: chance(0.5) ? { q: pick(['keep', 'drop', 'redact'] as const) } : {} },
  } as AccessLogConfig['fields'];
}

test('jsonLine writes exactly what JSON.stringify of the field object writes, for 2000 generated cases', () => {
  const next = random(20261128);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)]!;
  const chance = (p: number) => next() < p;
  for (let i = 0; i < 2000; i++) {
    const plan = compileFields(configFor(pick, chance), 'json');
    const x = exchangeFor(pick, chance);
    const now = Date.UTC(2026, 10, 28, 12, 0, 1) + pick([0, 1, 999]);
    const expected = formatJSON(plan.build(x), now);
    assert.equal(plan.jsonLine(x, now), expected, `case ${i}`);
    JSON.parse(expected);
  }
});

test('jsonString escapes what JSON.stringify escapes and nothing else', () => {
  for (const s of AWKWARD) assert.equal(jsonString(s), JSON.stringify(s), JSON.stringify(s));
  for (let code = 0; code < 0x10000; code++) {
    const s = `a${String.fromCharCode(code)}b`;
    assert.equal(jsonString(s), JSON.stringify(s), `U+${code.toString(16)}`);
  }
});
