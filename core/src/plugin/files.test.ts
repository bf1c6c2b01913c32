// Plugin option files: lines read with errors naming the option, changes followed until the generation retires.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, tempDir } from '@wharf/test-helpers';
import { followFile, readListFile } from './files.js';

test('readListFile: trimmed lines without blanks and comments; a missing file names the option', () => {
  const dir = tempDir('wharf-files-');
  try {
    writeFileSync(dir.file('users'), '# comment\n  a:1  \n\nb:2\n');
    assert.deepEqual(readListFile(dir.file('users'), 'usersFile'), ['a:1', 'b:2']);
    assert.throws(() => readListFile(dir.file('nope'), 'usersFile'), /^Error: usersFile: cannot read '.*nope' \(ENOENT\)$/);
  } finally {
    dir.remove();
  }
});

test('followFile: an edit and a rename-replace save are seen; nothing after the signal aborts', async () => {
  const dir = tempDir('wharf-files-');
  const abort = new AbortController();
  let changes = 0;
  try {
    const path = dir.write('users', 'a:1\n');
    followFile(path, abort.signal, () => changes++, 20);
    // An in-place write may be seen twice (truncated, then written): count changes, not events. The watcher takes
    // its first look asynchronously, so an edit made before that is its starting point: edit until one is seen.
    let edits = 0;
    await eventually(() => {
      writeFileSync(path, `a:1\nb:2\n${'#'.repeat(++edits)}\n`);
      return changes >= 1;
    }, 'the edit seen');
    const afterEdit = changes;
    dir.write('users', 'c:3\n'); // written beside, then renamed over: a new inode
    await eventually(() => changes > afterEdit, 'the replaced file seen');
    abort.abort();
    const atAbort = changes;
    writeFileSync(join(dir.path, '.next'), 'd:4\nlonger\n');
    renameSync(join(dir.path, '.next'), path);
    // The poll interval is 20 ms: a check still armed would have fired well within this poll's bound.
    await assert.rejects(eventually(() => changes > atAbort, 'no change after abort', 300));
  } finally {
    abort.abort();
    dir.remove();
  }
});
