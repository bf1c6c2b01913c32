// A throwaway redis-server for tests that need a real one (TCP routing, shared ACME store).
import { spawn, type ChildProcess } from 'node:child_process';
import { stablePort } from './backend.js';
import type { Pem } from './certs.js';
import { tempDir } from './fs.js';

export interface RedisServerProcess {
  readonly host: string;
  readonly port: number;
  /** `redis://host:port` (`rediss://` with tls) */
  readonly url: string;
  stop(): Promise<void>;
}

export interface RedisServerOptions {
  /** Serve TLS only (no plain port), with this server certificate; `ca` set: client certificates signed by it are required. */
  tls?: { server: Pem; ca?: Pem };
  /** More redis-server arguments, e.g. `['--user', 'alice', 'on', '>secret', '~*', '&*', '+@all']` for an ACL user. */
  args?: string[];
}

/** redis-server's listening arguments: a plain port, or a TLS port with its certificate files written to a temporary folder. */
function listenArgs(port: number, tls: RedisServerOptions['tls']): { args: string[]; cleanup(): void } {
  if (!tls) return { args: ['--port', String(port)], cleanup: () => undefined };
  const dir = tempDir('wharf-redis-tls-');
  const args = ['--port', '0', '--tls-port', String(port), '--tls-cert-file', dir.write('server.pem', tls.server.cert), '--tls-key-file', dir.write('server-key.pem', tls.server.key)];
  args.push(...(tls.ca ? ['--tls-ca-cert-file', dir.write('ca.pem', tls.ca.cert), '--tls-auth-clients', 'yes'] : ['--tls-auth-clients', 'no']));
  return { args, cleanup: () => dir.remove() };
}

/** Starts redis-server on `host` (default 127.0.0.1), no persistence; resolves once it accepts connections. */
export async function startRedisServer(host = '127.0.0.1', options: RedisServerOptions = {}): Promise<RedisServerProcess> {
  const port = await stablePort(host);
  const listen = listenArgs(port, options.tls);
  const args = [...listen.args, '--bind', host, '--save', '', '--appendonly', 'no', ...(options.args ?? [])];
  const child: ChildProcess = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'inherit'] });
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
    url: `${options.tls ? 'rediss' : 'redis'}://${host}:${port}`,
    async stop() {
      process.off('exit', kill);
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      listen.cleanup();
    },
  };
}
