// Runs every compiled test file (core, plugins, examples, end-to-end) with Node's test runner.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const roots = ['core/dist', 'providers', 'plugins', 'wharf/dist', 'examples', 'test/dist'];

function findTests(dir, out = []) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (name === 'node_modules' || name === 'src') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) findTests(path, out);
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

// The files that take minutes on a real Docker engine (images, swarm stacks). Node's runner orders the files it is
// given itself, so these came last and ran alone for their final minutes; they run in a runner of their own, one
// at a time (they share the machine's engine work), beside the runner of every other file.
const LONGEST = new Set(['test/dist/e2e/swarm-stack.test.js', 'test/dist/e2e/docker-image.test.js', 'test/dist/e2e/docker-engine.test.js', 'test/dist/e2e/healthcheck.test.js']);

const only = process.argv.slice(2);
const files = roots
  .flatMap((r) => findTests(join(root, r)))
  // Words match the path inside the repository: a checkout folder named after a plugin must not select everything.
  .filter((f) => only.length === 0 || only.some((o) => relative(root, f).includes(o)))
  .sort();
if (files.length === 0) {
  console.error('no test files found: run `npx tsc --build` first');
  process.exit(1);
}
console.log(`running ${files.length} test files:\n${files.map((f) => `  ${relative(root, f)}`).join('\n')}`);
const reporters = ['--test-reporter=tap', '--test-reporter-destination=stdout', '--test-reporter=./test/failures-reporter.js', '--test-reporter-destination=stdout'];

/** One `node --test` over `group`; its output goes to stdout as it comes (`live`) or once it is done. */
function runGroup(group, concurrency, live) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--test-timeout=300000', ...reporters, ...group], { stdio: ['ignore', 'pipe', 'inherit'], cwd: root });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      output += chunk;
      if (live) process.stdout.write(chunk);
    });
    child.on('exit', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
  });
}

/** The failures-reporter's list at the end of a runner's output. */
function failuresOf(output) {
  const at = output.lastIndexOf('\nfailed tests');
  return at === -1 ? [] : output.slice(at).split('\n').filter((line) => line.startsWith('  '));
}

const slow = files.filter((f) => LONGEST.has(relative(root, f)));
const rest = files.filter((f) => !LONGEST.has(relative(root, f)));
const results = await Promise.all([rest.length > 0 ? runGroup(rest, 2, true) : undefined, slow.length > 0 ? runGroup(slow, 1, false) : undefined]);
if (results[1]) process.stdout.write(`\n# the Docker engine files (${slow.length}), run beside the others:\n${results[1].output}`);
// Last in the log, which is all a CI page may keep: every failure of both runners.
const failures = results.flatMap((r) => (r ? failuresOf(r.output) : []));
console.log(failures.length === 0 ? '\nall test files: no failed test' : `\nall test files: ${failures.filter((l) => !l.startsWith('    ')).length} failed:\n${failures.join('\n')}`);
process.exit(results.some((r) => r && r.code !== 0) ? 1 : 0);
