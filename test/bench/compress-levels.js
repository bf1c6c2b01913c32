// `node test/bench/compress-levels.js`: CPU per KiB and compressed size of node:zlib's gzip levels and brotli qualities
// on 100 KiB of JSON and of JavaScript, in this process (no network). What plugins/compress chose its levels from;
// on a shared machine read the figures relative to each other.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { jsonBody } from './compress-backend.js';
import { repoRoot } from './lib.js';

const SAMPLE_KIB = 100;
const CPU_BUDGET_US = 1_000_000; // per row: bounded whatever the level costs

/** 100 KiB of the repository's own compiled JavaScript. */
function javascriptBody() {
  const dir = join(repoRoot, 'core', 'dist', 'config');
  const text = readdirSync(dir)
    .filter((f) => f.endsWith('.js'))
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n');
  return Buffer.from(text).subarray(0, SAMPLE_KIB * 1024);
}

function measure(body, compress) {
  for (let i = 0; i < 2; i++) compress(body);
  const start = process.cpuUsage();
  let runs = 0;
  let out;
  for (;;) {
    out = compress(body);
    runs++;
    const used = process.cpuUsage(start);
    if (used.user + used.system >= CPU_BUDGET_US) return { usPerKiB: (used.user + used.system) / runs / (body.length / 1024), ratio: out.length / body.length };
  }
}

const { BROTLI_PARAM_QUALITY } = zlib.constants;
const rows = [
  ...[1, 3, 4, 5, 6, 9].map((level) => ({ name: `gzip ${level}`, compress: (b) => zlib.gzipSync(b, { level }) })),
  ...[1, 3, 4, 5, 6, 11].map((quality) => ({ name: `br ${quality}`, compress: (b) => zlib.brotliCompressSync(b, { params: { [BROTLI_PARAM_QUALITY]: quality } }) })),
];
const bodies = { JSON: jsonBody(SAMPLE_KIB * 1024), JavaScript: javascriptBody() };
console.log(`node ${process.version}; CPU µs per KiB (relative) and compressed size, ${SAMPLE_KIB} KiB bodies`);
console.log(['encoding'.padEnd(10), ...Object.keys(bodies).map((n) => `${n} µs/KiB  size`.padStart(26))].join(''));
for (const row of rows) {
  const cells = Object.values(bodies).map((body) => {
    const { usPerKiB, ratio } = measure(body, row.compress);
    return `${usPerKiB.toFixed(2).padStart(16)}  ${(ratio * 100).toFixed(1).padStart(5)} %`;
  });
  console.log([row.name.padEnd(10), ...cells].join(''));
}
