// The strategy pickers on their own: hrw's stability and weight shares, p2c's choice, leasttime's scores.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPicker, HighestRandomWeight, LeastTime, PowerOfTwoChoices, ResponseTimes, type ServerLoad } from './strategy.js';

function server(url: string, weight = 1): ServerLoad {
  return { url, weight, inflight: 0, responseTimes: new ResponseTimes() };
}

describe('hrw', () => {
  const keys = Array.from({ length: 2000 }, (_v, i) => `10.${(i >> 8) & 255}.${i & 255}.${(i * 7) & 255}`);

  it('keeps each key on one server, and spreads keys by weight', () => {
    const servers = [server('http://a', 1), server('http://b', 3)];
    const picker = new HighestRandomWeight(servers);
    const first = keys.map((k) => picker.next(undefined, k)!.url);
    assert.deepEqual(
      keys.map((k) => picker.next(undefined, k)!.url),
      first,
    );
    const shareOfB = first.filter((u) => u === 'http://b').length / keys.length;
    assert.ok(shareOfB > 0.68 && shareOfB < 0.82, `b got ${shareOfB}, expected about 0.75`);
  });

  it('moves only the keys of a server that leaves', () => {
    const servers = [server('http://a'), server('http://b'), server('http://c')];
    const picker = new HighestRandomWeight(servers);
    const before = keys.map((k) => picker.next(undefined, k)!.url);
    const after = keys.map((k) => picker.next((s) => s.url !== 'http://c', k)!.url);
    for (let i = 0; i < keys.length; i++) if (before[i] !== 'http://c') assert.equal(after[i], before[i]);
    assert.ok(before.filter((u) => u === 'http://c').length > 400);
  });

  it('never picks a weight-0 server, nor an unavailable one', () => {
    const picker = new HighestRandomWeight([server('http://a', 0), server('http://b')]);
    for (const k of keys.slice(0, 50)) assert.equal(picker.next(undefined, k)?.url, 'http://b');
    assert.equal(picker.next(() => false, 'x'), undefined);
  });
});

describe('p2c', () => {
  it('of the two drawn, takes the one with fewer requests in flight; the first drawn on a tie', () => {
    const servers = [server('http://a'), server('http://b'), server('http://c')];
    const draws = [0, 2, 0, 2, 1, 1];
    const picker = new PowerOfTwoChoices(servers, () => draws.shift()!);
    servers[0]!.inflight = 3;
    assert.equal(picker.next(undefined)!.url, 'http://c');
    servers[0]!.inflight = 0;
    assert.equal(picker.next(undefined)!.url, 'http://a');
    // The same index twice: the next one is taken as the second choice.
    servers[1]!.inflight = 1;
    assert.equal(picker.next(undefined)!.url, 'http://c');
  });

  it('picks the only available server without drawing', () => {
    const picker = new PowerOfTwoChoices([server('http://a'), server('http://b')], () => assert.fail('no draw expected'));
    assert.equal(picker.next((s) => s.url === 'http://b')!.url, 'http://b');
  });
});

describe('leasttime', () => {
  it('scores average time × (1 + in flight) / weight, ties by weighted round-robin', () => {
    const a = server('http://a', 2);
    const b = server('http://b', 1);
    const picker = new LeastTime([a, b]);
    // No times yet: a tie, shared 2:1 (earliest deadline first; the first deadlines are staggered, as in Traefik).
    const names = Array.from({ length: 30 }, () => picker.next(undefined)!.url.slice(7)).join('');
    const countA = [...names].filter((n) => n === 'a').length;
    assert.ok(countA >= 19 && countA <= 21, names);
    a.responseTimes.add(10);
    b.responseTimes.add(4);
    // a: 10 / 2 = 5, b: 4 / 1 = 4.
    assert.equal(picker.next(undefined)!.url, 'http://b');
    // b with one request in flight: 4 × 2 = 8.
    b.inflight = 1;
    assert.equal(picker.next(undefined)!.url, 'http://a');
  });
});

describe('createPicker', () => {
  it('refuses an unknown strategy, naming the field', () => {
    assert.throws(() => createPicker('fastest' as never, []), /strategy: expected one of wrr, p2c, hrw, leasttime, got "fastest"/);
  });
});
