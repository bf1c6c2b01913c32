// A cluster worker stand-in for shared.test.ts: makes the ipcSharedState calls its parent asks for and prints
// each outcome as a JSON line on stdout, which outlives the IPC channel.
import { ipcSharedState } from './shared.js';

export interface CallRequest {
  type: 'test:call';
  tag: string;
  reducer: string;
  key: string;
  arg: unknown;
}

export interface Outcome {
  tag: string;
  result?: unknown;
  error?: string;
  ms: number;
}

const shared = ipcSharedState({ timeoutMs: Number(process.argv[2]) });

async function run(tag: string, reducer: string, key: string, arg: unknown): Promise<void> {
  const started = Date.now();
  let outcome: Outcome;
  try {
    outcome = { tag, result: await shared.call(reducer, key, arg), ms: Date.now() - started };
  } catch (err) {
    outcome = { tag, error: (err as Error).message, ms: Date.now() - started };
  }
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
}

process.on('message', (msg: CallRequest) => {
  if (msg?.type === 'test:call') void run(msg.tag, msg.reducer, msg.key, msg.arg);
});
// Once the primary is gone a new call must fail at once, not after the timeout.
process.on('disconnect', () => void run('after-disconnect', 'test:after', 'k', null));
process.send!({ type: 'test:ready' });
