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

// The files that take minutes (a real Docker engine: images, swarm stacks) start first, so the other files run
// beside them rather than after them: started last, they ran alone for their last two minutes.
const LONGEST = ['test/dist/e2e/swarm-stack.test.js', 'test/dist/e2e/docker-image.test.js', 'test/dist/e2e/docker-engine.test.js', 'test/dist/e2e/healthcheck.test.js'];

function longestFirst(a, b) {
  const rank = (f) => {
    const i = LONGEST.indexOf(relative(root, f));
    return i === -1 ? LONGEST.length : i;
  };
  return rank(a) - rank(b) || a.localeCompare(b);
}

const only = process.argv.slice(2);
const files = roots
  .flatMap((r) => findTests(join(root, r)))
  // Words match the path inside the repository: a checkout folder named after a plugin must not select everything.
  .filter((f) => only.length === 0 || only.some((o) => relative(root, f).includes(o)))
  .sort(longestFirst);
if (files.length === 0) {
  console.error('no test files found: run `npx tsc --build` first');
  process.exit(1);
}
console.log(`running ${files.length} test files:\n${files.map((f) => `  ${relative(root, f)}`).join('\n')}`);
const reporters = ['--test-reporter=tap', '--test-reporter-destination=stdout', '--test-reporter=./test/failures-reporter.js', '--test-reporter-destination=stdout'];
const child = spawn(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=300000', ...reporters, ...files], { stdio: 'inherit', cwd: root });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
