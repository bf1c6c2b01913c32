// A second reporter for test/run.js: after the TAP stream, lists every failed test with its file and first error
// line, so the end of a long log (all a CI page may keep) names what failed.
import { relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

function firstLine(error) {
  const cause = error?.cause ?? error;
  const text = cause?.message ?? String(cause ?? 'no error message');
  return text.split('\n').find((line) => line.trim() !== '') ?? text;
}

export default async function* failuresReporter(source) {
  const failures = [];
  for await (const event of source) {
    if (event.type !== 'test:fail') continue;
    const { name, file, details } = event.data;
    // A suite fails when a test inside it does; the test itself is the useful line.
    if (details?.error?.failureType === 'subtestsFailed') continue;
    failures.push(`  ${file ? relative(root, file) : '?'}: ${name}\n    ${firstLine(details?.error)}`);
  }
  yield failures.length === 0
    ? '\nfailed tests: none\n'
    : `\nfailed tests (${failures.length}):\n${failures.join('\n')}\n`;
}
