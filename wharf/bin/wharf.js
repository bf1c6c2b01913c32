#!/usr/bin/env node
// The `wharf` command: runs the distribution (built-in plugins and providers) through core's command.
import { main } from '../dist/index.js';

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`wharf: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
