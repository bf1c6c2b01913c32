// The real `wharf` command as a child process: start it, read its output, signal it, always clean it up.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The monorepo root (test/helpers/dist → ../../..). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const WHARF_BIN = fileURLToPath(new URL('../../../wharf/bin/wharf.js', import.meta.url));

// Upper bound for waiting on the child's output; only there so a broken gateway fails the test instead of hanging it.
const OUTPUT_WAIT_MS = 60_000;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface WharfProcess {
  child: ChildProcess;
  pid: number;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match in stdout+stderr (searching from `from`); rejects if the process exits first. */
  waitFor(pattern: RegExp, from?: number): Promise<RegExpMatchArray>;
  /** Length of stdout+stderr so far, to wait only for output written after this point. */
  mark(): number;
  /** Port an entrypoint reported in its `listening on` log line. */
  port(entrypoint?: string): Promise<number>;
  exited: Promise<Exit>;
  /** Sends a signal and waits for the exit (SIGKILL after a bound, so tests never hang). */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

export interface SpawnOptions {
  cwd?: string;
  /** Added to the environment; WHARF_* variables of the test runner itself are never inherited. */
  env?: Record<string, string>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Starts `node wharf/bin/wharf.js ...args`. */
export function spawnWharf(args: string[], options: SpawnOptions = {}): WharfProcess {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('WHARF_')) env[k] = v;
  const child = spawn(process.execPath, [WHARF_BIN, ...args], { cwd: options.cwd ?? ROOT, env: { ...env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  let err = '';
  let combined = '';
  const listeners = new Set<() => void>();
  const onOutput = () => {
    for (const l of listeners) l();
  };
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    out += s;
    combined += s;
    onOutput();
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    err += s;
    combined += s;
    onOutput();
  });
  const exited = new Promise<Exit>((resolve) => {
    child.on('exit', (code, signal) => {
      running.delete(child);
      // Let the pipes deliver the last lines before anyone reads them.
      setImmediate(() => {
        resolve({ code, signal });
        onOutput();
      });
    });
  });
  let hasExited = false;
  void exited.then(() => (hasExited = true));

  function waitFor(pattern: RegExp, from = 0): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const match = combined.slice(from).match(pattern);
        if (match) return finish(() => resolve(match));
        if (hasExited) return finish(() => reject(new Error(`wharf exited before printing ${pattern}; output:\n${combined}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`wharf did not print ${pattern} within ${OUTPUT_WAIT_MS} ms; output:\n${combined}`))), OUTPUT_WAIT_MS);
      const finish = (fn: () => void) => {
        clearTimeout(timer);
        listeners.delete(check);
        fn();
      };
      listeners.add(check);
      check();
    });
  }

  async function stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> {
    if (!hasExited) child.kill(signal);
    const force = setTimeout(() => child.kill('SIGKILL'), OUTPUT_WAIT_MS);
    const exit = await exited;
    clearTimeout(force);
    return exit;
  }

  return {
    child,
    pid: child.pid!,
    stdout: () => out,
    stderr: () => err,
    waitFor,
    mark: () => combined.length,
    port: async (entrypoint = 'web') => Number((await waitFor(new RegExp(`entrypoint ${entrypoint} listening on \\S*:(\\d+)`, 'i')))[1]),
    exited,
    stop,
  };
}

/** Runs wharf to completion (for --help and start-up errors), returning its exit and output. */
export async function runWharf(args: string[], options: SpawnOptions = {}): Promise<Exit & { stdout: string; stderr: string }> {
  const p = spawnWharf(args, options);
  const force = setTimeout(() => p.child.kill('SIGKILL'), OUTPUT_WAIT_MS);
  const exit = await p.exited;
  clearTimeout(force);
  return { ...exit, stdout: p.stdout(), stderr: p.stderr() };
}
