// Reading other processes through /proc (Linux): resident memory and child processes.
import { readFileSync, readdirSync } from 'node:fs';

/** Resident set size of a process in bytes (VmRSS in /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

/** Direct children of a process, from every thread's /proc/<pid>/task/<tid>/children. */
export function childPids(pid: number): number[] {
  const pids = new Set<number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let text = '';
    try {
      text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8');
    } catch {
      continue; // the thread ended while we listed them
    }
    for (const p of text.trim().split(/\s+/)) if (p) pids.add(Number(p));
  }
  return [...pids].sort((a, b) => a - b);
}

/** Whether a process exists (signal 0 probes without signalling). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls `check` until it returns a truthy value; throws after `boundMs` so a broken run fails instead of hanging. */
export async function eventually<T>(check: () => T | Promise<T>, what: string, boundMs = 10_000, everyMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
