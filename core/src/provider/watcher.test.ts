// Tests for the provider watcher's throttle: snapshots wait out providersThrottleDuration unless marked immediate.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually } from '@wharf/test-helpers';
import type { ProviderConfig } from '../config/dynamic.js';
import { ConfigWatcher } from './watcher.js';

function snapshot(servers: number): ProviderConfig {
  return { provider: 'docker', config: { http: { services: { s: { loadBalancer: { passHostHeader: true, servers: Array.from({ length: servers }, (_, i) => ({ url: `http://127.0.0.1:${8000 + i}` })) } } } } }, problems: [] };
}

describe('ConfigWatcher', () => {
  it('applies the first snapshot at once, holds the next for the throttle window, and applies an immediate one now', async () => {
    const applied: number[] = [];
    const count = (configs: ProviderConfig[]) => configs[0]!.config.http!.services!.s!.loadBalancer!.servers!.length;
    // A window far longer than the test's wait: a held snapshot cannot be applied by it running out.
    const watcher = new ConfigWatcher({ throttleMs: 600_000, apply: (configs) => applied.push(count(configs)) });
    try {
      watcher.push(snapshot(3));
      await eventually(() => applied.length === 1, 'first snapshot applied');
      watcher.push(snapshot(4)); // held: inside the window
      watcher.push(snapshot(2), { immediate: true }); // a server leaving: applied now, the latest snapshot wins
      await eventually(() => applied.length === 2, 'immediate snapshot applied');
      assert.deepEqual(applied, [3, 2]);
    } finally {
      watcher.stop();
    }
  });
});
