// Tests for the smooth weighted round-robin balancer: exact nginx sequences, weight 0, availability.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WharfError } from '../errors.js';
import { SmoothWeightedBalancer } from './balancer.js';

interface Item {
  name: string;
  weight?: number;
}

function sequence(balancer: SmoothWeightedBalancer<Item>, count: number, isAvailable?: (item: Item) => boolean): string {
  const names: string[] = [];
  for (let i = 0; i < count; i++) names.push(balancer.next(isAvailable)?.name ?? '-');
  return names.join(' ');
}

describe('SmoothWeightedBalancer', () => {
  it('spreads weights 5,1,1 exactly as nginx does', () => {
    const balancer = new SmoothWeightedBalancer<Item>([
      { name: 'a', weight: 5 },
      { name: 'b', weight: 1 },
      { name: 'c', weight: 1 },
    ]);
    // nginx 1.3.1 changeset "Upstream: smooth weighted round-robin balancing": { a, a, b, a, c, a, a }.
    assert.equal(sequence(balancer, 14), 'a a b a c a a a a b a c a a');
  });

  it('gives 4,2,1 its smooth interleaving', () => {
    const balancer = new SmoothWeightedBalancer<Item>([
      { name: 'a', weight: 4 },
      { name: 'b', weight: 2 },
      { name: 'c', weight: 1 },
    ]);
    assert.equal(sequence(balancer, 7), 'a b a c a b a');
  });

  it('defaults weights to 1 (plain round-robin, first wins ties)', () => {
    const balancer = new SmoothWeightedBalancer<Item>([{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
    assert.equal(sequence(balancer, 6), 'a b c a b c');
  });

  it('never picks a weight-0 item', () => {
    const balancer = new SmoothWeightedBalancer<Item>([
      { name: 'a', weight: 0 },
      { name: 'b', weight: 2 },
      { name: 'c', weight: 1 },
    ]);
    assert.equal(balancer.size, 2);
    assert.equal(sequence(balancer, 6), 'b c b b c b');
  });

  it('skips unavailable items and returns undefined when none is left', () => {
    const balancer = new SmoothWeightedBalancer<Item>([
      { name: 'a', weight: 5 },
      { name: 'b', weight: 1 },
      { name: 'c', weight: 1 },
    ]);
    assert.equal(sequence(balancer, 4, (item) => item.name !== 'a'), 'b c b c');
    assert.equal(balancer.next(() => false), undefined);
    assert.equal(new SmoothWeightedBalancer<Item>([]).next(), undefined);
    assert.equal(new SmoothWeightedBalancer<Item>([{ name: 'z', weight: 0 }]).next(), undefined);
  });

  it('keeps the long-run ratio under uneven weights', () => {
    const balancer = new SmoothWeightedBalancer<Item>([
      { name: 'a', weight: 3 },
      { name: 'b', weight: 7 },
    ]);
    const counts = { a: 0, b: 0 };
    for (let i = 0; i < 1000; i++) counts[balancer.next()!.name as 'a' | 'b']++;
    assert.deepEqual(counts, { a: 300, b: 700 });
  });

  it('rejects negative and fractional weights', () => {
    assert.throws(() => new SmoothWeightedBalancer<Item>([{ name: 'a', weight: -1 }]), WharfError);
    assert.throws(() => new SmoothWeightedBalancer<Item>([{ name: 'a', weight: 1.5 }]), WharfError);
  });
});
