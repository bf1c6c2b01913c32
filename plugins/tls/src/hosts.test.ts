// Host → TLS options per entrypoint: name qualification, entrypoint defaults, conflicts, and the lookup by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RouterInfo, RuntimeInfo } from '@wharf/core';
import { buildHostOptions, optionsFor, resolveOptionsName } from './hosts.js';
import { captureLog } from './harness.test.helper.js';

const known = new Set(['default', 'modern@file', 'strict@docker', 'shared@file', 'shared@kv']);

test('resolveOptionsName', () => {
  const cases: Array<[string | undefined, string, string]> = [
    [undefined, 'docker', 'default'],
    ['default', 'docker', 'default'],
    ['strict', 'docker', 'strict@docker'],
    ['modern@file', 'docker', 'modern@file'],
    // Defined by exactly one other provider: found without @file (a common Traefik stumble).
    ['modern', 'docker', 'modern@file'],
    // Ambiguous or unknown: qualified with the router's provider, which does not exist → refused later.
    ['shared', 'docker', 'shared@docker'],
    ['nope', 'docker', 'nope@docker'],
    ['nope@file', 'docker', 'nope@file'],
  ];
  for (const [reference, provider, expected] of cases) assert.equal(resolveOptionsName(reference, provider, known), expected, String(reference));
});

function router(name: string, rule: string, entryPoints: string[], tls?: { options?: string }, status: RouterInfo['status'] = 'enabled'): RouterInfo {
  const [, provider] = name.split('@');
  return { name, provider: provider!, status, config: { rule, service: 's', ...(tls ? { tls } : {}) }, entryPoints, middlewares: [] };
}

function info(...routers: RouterInfo[]): RuntimeInfo {
  return { generation: 1, routers: Object.fromEntries(routers.map((r) => [r.name, r])), services: {}, middlewares: {} };
}

test('hosts of routers on the entrypoint take their router options, else the entrypoint options', () => {
  const { log } = captureLog();
  const map = buildHostOptions(
    info(
      router('a@file', 'Host(`a.test`) && PathPrefix(`/x`)', ['websecure'], { options: 'modern' }),
      router('b@file', 'Host(`b.test`) || Host(`c.test`)', ['websecure']),
      router('d@docker', 'Host(`d.test`)', ['websecure'], {}),
      router('other@file', 'Host(`other.test`)', ['internal'], { options: 'modern' }),
      router('off@file', 'Host(`off.test`)', ['websecure'], { options: 'modern' }, 'disabled'),
      router('path@file', 'PathPrefix(`/p`)', ['websecure'], { options: 'modern' }),
    ),
    'websecure',
    'strict@docker',
    known,
    log,
  );
  assert.deepEqual(Object.fromEntries(map), { 'a.test': 'modern@file', 'b.test': 'strict@docker', 'c.test': 'strict@docker', 'd.test': 'default' });
});

test('two routers giving one host different options: the host falls back to default, with an error', () => {
  const capture = captureLog();
  const map = buildHostOptions(
    info(router('x@file', 'Host(`x.test`)', ['websecure'], { options: 'modern' }), router('y@file', 'Host(`X.test`) && Path(`/y`)', ['websecure'], {})),
    'websecure',
    undefined,
    known,
    capture.log,
  );
  assert.equal(map.get('x.test'), 'default');
  assert.ok(capture.lines.some((l) => l.level === 'error' && l.msg.includes('x.test')));
});

test('a router naming options that do not exist is reported (its hosts are refused at handshake)', () => {
  const capture = captureLog();
  const map = buildHostOptions(info(router('x@file', 'Host(`x.test`)', ['websecure'], { options: 'missing' })), 'websecure', undefined, known, capture.log);
  assert.equal(map.get('x.test'), 'missing@file');
  assert.ok(capture.lines.some((l) => l.level === 'error' && l.msg.includes("TLS options 'missing@file' do not exist")));
});

test('optionsFor: exact host, case and trailing dot ignored, else default', () => {
  const map = new Map([['a.test', 'modern@file']]);
  assert.equal(optionsFor(map, 'A.Test.'), 'modern@file');
  assert.equal(optionsFor(map, 'b.a.test'), 'default');
  assert.equal(optionsFor(map, undefined), 'default');
});
