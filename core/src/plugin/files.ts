// Files named in a plugin's options (usersFile, …): read at configuration time with errors naming the field, and
// followed for changes until the configuration generation that uses them retires.
import { readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs';

/** How often a followed file's metadata is checked (one stat per interval and file). */
export const FOLLOW_INTERVAL_MS = 1000;

/** Lines of a list file: trimmed, without blank lines and `#` comments (Traefik's getLinesFromFile). */
export function fileLines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** Reads a list file now; the error names the option and the reason (`usersFile: cannot read '/x' (ENOENT)`). */
export function readListFile(path: string, field: string): string[] {
  try {
    return fileLines(readFileSync(path, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`${field}: cannot read '${path}'${code ? ` (${code})` : ''}`, { cause: err });
  }
}

/**
 * Calls `onChange` when the file's size, modification time or inode changes (an edit, or a rename-replace save),
 * until `signal` aborts — pass the `signal` that `create` receives, so the watch ends with its generation.
 * Polled rather than watched: a stat per interval works on every filesystem and follows a replaced file.
 */
export function followFile(path: string, signal: AbortSignal, onChange: () => void, intervalMs = FOLLOW_INTERVAL_MS): void {
  if (signal.aborted) return;
  const listener = (now: Stats, before: Stats) => {
    if (now.mtimeMs === before.mtimeMs && now.size === before.size && now.ino === before.ino) return;
    onChange();
  };
  watchFile(path, { interval: intervalMs, persistent: false }, listener);
  signal.addEventListener('abort', () => unwatchFile(path, listener), { once: true });
}
