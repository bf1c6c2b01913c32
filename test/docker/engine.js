// The real Docker Engine for tests: started and stopped through test/docker/engine.sh (which installs docker.io
// when missing); failing to start is a test failure with the script's message, never a skip.
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The start/stop script beside this module. */
export const ENGINE_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'engine.sh');

async function script(command) {
  try {
    const { stdout } = await run('bash', [ENGINE_SCRIPT, command], { timeout: 300_000, maxBuffer: 16 << 20 });
    return Object.fromEntries(stdout.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  }
  catch (err) {
    const e = err;
    throw new Error(`the Docker Engine could not be ${command === 'stop' ? 'stopped' : 'started'} by ${ENGINE_SCRIPT} ${command}: ${(e.stderr || e.message).trim()}`, { cause: err });
  }
}

export async function startEngine() {
  const env = await script('start');
  const host = env.DOCKER_HOST;
  const cli = env.DOCKER_CLI;
  return {
    host,
    socketPath: host.replace(/^unix:\/\//, ''),
    image: env.WHARF_TEST_IMAGE,
    async docker(...args) {
      try {
        const { stdout } = await run(cli, ['-H', host, ...args], { timeout: 120_000 });
        return stdout.trim();
      }
      catch (err) {
        const e = err;
        throw new Error(`docker ${args.join(' ')}: ${(e.stderr || e.message).trim()}`, { cause: err });
      }
    },
    kill: async () => void (await script('kill')),
    revive: async () => void (await script('revive')),
    stop: async () => void (await script('stop')),
  };
}
