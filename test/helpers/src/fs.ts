// Temporary directories for configuration files, removed when the test ends.
import { mkdtempSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TempDir {
  path: string;
  /** Absolute path of a file inside the directory. */
  file(name: string): string;
  /** Writes a file atomically (write + rename), as editors and config generators do. */
  write(name: string, text: string): string;
  remove(): void;
}

export function tempDir(prefix = 'wharf-e2e-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  let n = 0;
  return {
    path,
    file: (name) => join(path, name),
    write(name, text) {
      const target = join(path, name);
      // The temp name starts with '.' so the directory provider never reads a half-written file.
      const tmp = join(path, `.${name}.${n++}.tmp`);
      writeFileSync(tmp, text);
      renameSync(tmp, target);
      return target;
    },
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}
