// A throwaway redis-server for tests that need a real one (TCP routing, shared ACME store).
import { spawn, type ChildProcess } from 'node:child_process';
import { stablePort } from './backend.js';

export interface RedisServerProcess {
  readonly host: string;
  readonly port: number;
  /** `redis://host:port` */
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts redis-server on `host` (default 127.0.0.1), no persistence; resolves once it accepts connections. */
export async function startRedisServer(host = '127.0.0.1'): Promise<RedisServerProcess> {
  const port = await stablePort(host);
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', host, '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Ready to accept connections')) resolve();
    });
    child.once('error', (err) => reject(new Error(`redis-server did not start (${err.message}); install it: apt-get install -y redis-server`)));
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}):\n${out}`)));
  });
  return {
    host,
    port,
    url: `redis://${host}:${port}`,
    async stop() {
      process.off('exit', kill);
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
