// ipcSharedState against a real forked child: this test process plays the cluster primary, answering,
// failing, dropping calls or closing the channel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { eventually } from '@wharf/test-helpers';
import { answerSharedCall, defineReducer, type SharedCall } from './shared.js';
import type { CallRequest, Outcome } from './shared.test.helper.js';

const HELPER = fileURLToPath(new URL('./shared.test.helper.js', import.meta.url));
// Only a bound so a broken client fails the test instead of hanging it.
const WAIT_MS = 10_000;

defineReducer('test:add', (state, key, arg) => {
  const total = ((state.get(key) as number | undefined) ?? 0) + (arg as number);
  state.set(key, total);
  return total;
});
defineReducer('test:throw', () => {
  throw new Error('the bucket table is full');
});

interface FakeWorker {
  child: ChildProcess;
  /** Calls that reached this "primary", answered or not. */
  received: SharedCall[];
  call(tag: string, reducer: string, key: string, arg?: unknown): void;
  outcome(tag: string): Promise<Outcome>;
  exited: Promise<number | null>;
}

/** Forks the helper; `primary` decides per call whether to answer it (with the real answerSharedCall) or drop it. */
async function startWorker(timeoutMs: number, primary: (call: SharedCall) => 'answer' | 'drop'): Promise<FakeWorker> {
  const child = fork(HELPER, [String(timeoutMs)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const received: SharedCall[] = [];
  const outcomes = new Map<string, Outcome>();
  const waiters = new Map<string, (o: Outcome) => void>();
  let buffered = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      const outcome = JSON.parse(line) as Outcome;
      outcomes.set(outcome.tag, outcome);
      waiters.get(outcome.tag)?.(outcome);
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.on('message', (msg: SharedCall | { type: 'test:ready' }) => {
    if (msg.type !== 'wharf:shared') return;
    received.push(msg);
    if (primary(msg) === 'answer') void answerSharedCall(msg).then((reply) => child.connected && child.send(reply));
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`helper exited (${code}) before it was ready`)));
  });
  return {
    child,
    received,
    exited,
    call: (tag, reducer, key, arg = null) => child.send({ type: 'test:call', tag, reducer, key, arg } satisfies CallRequest),
    outcome: (tag) => (outcomes.has(tag) ? Promise.resolve(outcomes.get(tag)!) : within(new Promise((resolve) => waiters.set(tag, resolve)), `the outcome of call '${tag}'`)),
  };
}

/** `promise`, or a rejection naming `what` after WAIT_MS. */
async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), WAIT_MS)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

test('a call is answered by the reducer in the primary, in order', async () => {
  const worker = await startWorker(5_000, () => 'answer');
  try {
    worker.call('first', 'test:add', 'answered', 1);
    assert.deepEqual((await worker.outcome('first')).result, 1);
    worker.call('second', 'test:add', 'answered', 2);
    assert.deepEqual((await worker.outcome('second')).result, 3);
  } finally {
    worker.child.kill();
  }
});

test("a reducer that throws in the primary rejects the worker's call with its message", async () => {
  const worker = await startWorker(5_000, () => 'answer');
  try {
    worker.call('failing', 'test:throw', 'k');
    assert.equal((await worker.outcome('failing')).error, "shared reducer 'test:throw' failed in the cluster primary: the bucket table is full");
  } finally {
    worker.child.kill();
  }
});

test('a primary that never answers: the call rejects after the timeout, naming the reducer; a late answer is ignored', async () => {
  const timeoutMs = 300;
  const worker = await startWorker(timeoutMs, (call) => (call.reducer === 'test:lost' ? 'drop' : 'answer'));
  try {
    worker.call('lost', 'test:lost', 'k1');
    const lost = await worker.outcome('lost');
    assert.match(lost.error ?? '', /^shared reducer 'test:lost' \(key 'k1'\): the cluster primary did not answer within 300 ms/);
    assert.ok(lost.ms >= timeoutMs - 5 && lost.ms < 3_000, `rejected after ${lost.ms} ms`);
    // The answer arrives after all: no waiter is left for it, and it must not settle the next call either.
    worker.child.send({ type: 'wharf:shared-reply', id: worker.received[0]!.id, result: 'too late' });
    worker.call('next', 'test:add', 'late', 5);
    const next = await worker.outcome('next');
    assert.equal(next.error, undefined);
    assert.equal(next.result, 5);
  } finally {
    worker.child.kill();
  }
});

test('the channel closing rejects the pending call at once, and a call made afterwards immediately', async () => {
  // A timeout far beyond WAIT_MS: only the disconnect can settle the call in time.
  const worker = await startWorker(60_000, () => 'drop');
  try {
    worker.call('pending', 'test:lost', 'k');
    await eventually(() => worker.received.length === 1, 'the call to reach the primary', WAIT_MS);
    worker.child.disconnect();
    const pending = await worker.outcome('pending');
    assert.match(pending.error ?? '', /^shared reducer 'test:lost': the IPC channel to the cluster primary is closed/);
    const after = await worker.outcome('after-disconnect');
    assert.match(after.error ?? '', /^shared reducer 'test:after': the IPC channel to the cluster primary is closed/);
    assert.ok(after.ms < 1_000, `a call after the disconnect waited ${after.ms} ms`);
    // No timer is left behind: with nothing else to do the worker exits on its own.
    assert.equal(await within(worker.exited, 'the worker to exit'), 0);
  } finally {
    worker.child.kill();
  }
});
