import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BadRequest, keep, paginate, parseListQuery, sortItems } from './query.js';

const q = (s: string) => parseListQuery(new URLSearchParams(s));

test('parseListQuery: defaults and bad values', () => {
  assert.deepEqual(q(''), { search: '', status: undefined, serviceName: undefined, middlewareName: undefined, sortBy: 'name', direction: 'asc', page: 1, perPage: 100 });
  const bad = ['status=broken', 'page=0', 'page=x', 'per_page=-1', 'per_page=1.5', 'direction=up'];
  for (const s of bad) assert.throws(() => q(s), BadRequest, s);
});

test('paginate: Traefik semantics of page, per_page and X-Next-Page', () => {
  const items = [1, 2, 3, 4, 5];
  const cases: { query: string; items: number[]; next: number }[] = [
    { query: '', items: [1, 2, 3, 4, 5], next: 1 },
    { query: 'per_page=2', items: [1, 2], next: 2 },
    { query: 'per_page=2&page=2', items: [3, 4], next: 3 },
    { query: 'per_page=2&page=3', items: [5], next: 1 },
    { query: 'per_page=5', items: [1, 2, 3, 4, 5], next: 1 },
  ];
  for (const c of cases) {
    const page = paginate(items, q(c.query));
    assert.deepEqual(page.items, c.items, c.query);
    assert.equal(page.nextPage, c.next, c.query);
  }
  assert.throws(() => paginate(items, q('per_page=2&page=4')), /page: 4, per_page: 2/);
  assert.deepEqual(paginate([], q('')), { items: [], nextPage: 1 }, 'the first page of an empty list is not an error');
});

test('keep: status, search in the given fields (case-insensitive), serviceName, middlewareName', () => {
  const r = { name: 'Web@file', rule: 'Host(`shop.example`)', status: 'warning', service: 'shop@file', middlewares: ['auth@file'] };
  assert.equal(keep(r, q('status=warning'), ['name']), true);
  assert.equal(keep(r, q('status=enabled'), ['name']), false);
  assert.equal(keep(r, q('search=WEB'), ['name']), true);
  assert.equal(keep(r, q('search=shop.example'), ['name']), false);
  assert.equal(keep(r, q('search=shop.example'), ['name', 'rule']), true);
  assert.equal(keep(r, q('serviceName=shop@file&middlewareName=auth@file'), ['name']), true);
  assert.equal(keep(r, q('middlewareName=other@file'), ['name']), false);
});

test('sortItems: by a field then by name, either direction', () => {
  const items = () => [{ name: 'b', priority: 1 }, { name: 'a', priority: 2 }, { name: 'c', priority: 1 }];
  assert.deepEqual(sortItems(items(), q('')).map((i) => i.name), ['a', 'b', 'c']);
  assert.deepEqual(sortItems(items(), q('sortBy=priority')).map((i) => i.name), ['b', 'c', 'a']);
  assert.deepEqual(sortItems(items(), q('sortBy=priority&direction=desc')).map((i) => i.name), ['a', 'c', 'b']);
});
