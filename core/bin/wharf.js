#!/usr/bin/env node
// The `wharf` command: runs the compiled CLI.
import { main } from '../dist/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`wharf: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
