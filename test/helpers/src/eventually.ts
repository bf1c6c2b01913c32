// Waiting in tests: poll for the state a test needs instead of sleeping a guessed time.

/**
 * Default bound for `eventually`. It only ends a broken run (a passing check returns as soon as it holds), so it is
 * generous: the suite shares a 2-core machine with other builds and test processes.
 */
export const EVENTUALLY_TIMEOUT_MS = 60_000;

/** What a truthy check returned: `T` without the falsy values that mean "not yet". */
export type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

/**
 * Polls `check` every `intervalMs` until it returns a truthy value, and returns that value. A check that throws is
 * retried (a server not listening yet, a file not written yet). After `timeoutMs` it fails with
 * `timed out after … waiting for <what>` and the last value or error seen. `timeoutMs` is a functional deadline
 * ("routable within 1 s"), not a measurement.
 */
export async function eventually<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = EVENTUALLY_TIMEOUT_MS,
  intervalMs = 50,
): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: { value: unknown } | { error: unknown };
  for (;;) {
    try {
      const value = await check();
      if (value) return value as Truthy<T>;
      last = { value };
    } catch (error) {
      last = { error };
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last ${describe(last)})`);
    await sleep(intervalMs);
  }
}

function describe(last: { value: unknown } | { error: unknown }): string {
  if ('error' in last) return `error: ${last.error instanceof Error ? last.error.message : String(last.error)}`;
  let text: string;
  try {
    text = JSON.stringify(last.value) ?? String(last.value);
  } catch {
    text = String(last.value);
  }
  return `value: ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`;
}

/**
 * Waits a fixed time. Not for synchronisation (use `eventually`): only where the time itself is the point, such as
 * keeping a load running for a while or checking that nothing happens during a window.
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
