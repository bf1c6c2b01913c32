// `wharf healthcheck`, as `traefik healthcheck --ping`: reads the gateway's static configuration (flags, WHARF_*
// variables, --configFile), asks /ping on the ping entrypoint, exits 0 on 200 and 1 otherwise with the reason.
import { readFileSync, readdirSync, realpathSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { messageOf, type StaticConfig } from '@wharf/core';
import { decodeStatic, isTLSEntryPoint, parseAddress, readStaticSources } from '@wharf/core/config';
import { customPluginSpecs, loadPlugins, type CommandDistribution, type Subcommand } from '@wharf/core/cli';

/** As Traefik's client: a gateway that cannot answer /ping within this is not healthy. */
const TIMEOUT_MS = 5_000;

const USAGE = `Usage: wharf healthcheck [the gateway's flags]

Calls /ping on the ping entrypoint (--ping.entryPoint, default traefik) at that entrypoint's address, over TLS
when the entrypoint has http.tls. Exits 0 when it answers 200, 1 otherwise with the reason on stderr.
Reads the same static configuration as the gateway: flags, WHARF_* variables and --configFile. Without flags of
its own it takes the flags of the wharf gateway it runs beside (the container's first process), so an image's
HEALTHCHECK needs none.
`;

class Unhealthy extends Error {}

export const healthcheckCommand: Subcommand = {
  description: 'Calls /ping on the ping entrypoint and exits 0 when the gateway is healthy (for HEALTHCHECK).',
  run: runHealthcheck,
};

async function runHealthcheck(argv: readonly string[], distribution: CommandDistribution, env: NodeJS.ProcessEnv): Promise<number> {
  if (argv.some((a) => /^--?(h|help)(=|$)/i.test(a))) {
    process.stdout.write(USAGE);
    return 0;
  }
  let config: StaticConfig;
  try {
    config = await readConfig(argv.length > 0 ? argv : gatewayArgs(Object.keys(distribution.commands ?? {})), distribution, env);
  } catch (err) {
    process.stderr.write(`wharf: ${messageOf(err)}\n`); // bad flags: as the gateway command reports them
    return 2;
  }
  try {
    const url = pingUrl(config);
    await ping(url);
    process.stdout.write(`OK: ${url}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`wharf healthcheck: ${messageOf(err)}\n`);
    return 1;
  }
}

async function readConfig(argv: readonly string[], distribution: CommandDistribution, env: NodeJS.ProcessEnv): Promise<StaticConfig> {
  const sources = readStaticSources(argv, env);
  const registry = await loadPlugins(distribution, customPluginSpecs(sources.tree));
  return decodeStatic(sources, registry);
}

/** The URL of /ping on the ping entrypoint; a wildcard listen address is asked on loopback. */
export function pingUrl(config: StaticConfig): URL {
  const section = config.ping as { entryPoint?: string } | undefined;
  if (!section) throw new Unhealthy('ping is not enabled: start the gateway with --ping (or --ping.entryPoint=<name>) and give healthcheck the same flags');
  const name = section.entryPoint ?? 'traefik';
  const entryPoint = config.entryPoints[name];
  if (!entryPoint) throw new Unhealthy(`ping.entryPoint: entrypoint '${name}' does not exist; define it with --entrypoints.${name}.address=:8080`);
  const { host, port } = parseAddress(entryPoint.address, name);
  const scheme = isTLSEntryPoint(entryPoint) ? 'https' : 'http';
  return new URL(`${scheme}://${hostForUrl(host)}:${port}/ping`);
}

function hostForUrl(host: string | undefined): string {
  if (host === undefined || host === '' || host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/** HEAD /ping, as Traefik's healthcheck; TLS without verification (this checks liveness, not the certificate). */
function ping(url: URL): Promise<void> {
  return new Promise((resolve, reject) => {
    const options = { method: 'HEAD', agent: false as const, timeout: TIMEOUT_MS };
    const req = url.protocol === 'https:' ? httpsRequest(url, { ...options, rejectUnauthorized: false }) : httpRequest(url, options);
    const deadline = setTimeout(() => req.destroy(new Unhealthy(`${url.href}: no answer within ${TIMEOUT_MS / 1000}s`)), TIMEOUT_MS);
    req.on('response', (res: IncomingMessage) => {
      clearTimeout(deadline);
      res.resume();
      if (res.statusCode === 200) resolve();
      else reject(new Unhealthy(`${url.href} answered ${res.statusCode} ${res.statusMessage ?? ''}`.trimEnd()));
    });
    req.on('error', (err) => {
      clearTimeout(deadline);
      reject(err instanceof Unhealthy ? err : new Unhealthy(`${url.href}: ${messageOf(err)}`));
    });
    req.end();
  });
}

/**
 * The flags of the wharf gateway this command runs beside: PID 1 of its container, or a child of PID 1 when an init
 * (`docker run --init`, `init: true`) is PID 1. Empty when there is none (then only WHARF_* and the file count).
 */
function gatewayArgs(commands: readonly string[]): string[] {
  const self = realScript(process.argv[1]);
  if (!self) return [];
  for (const pid of ['1', ...childrenOfInit()]) {
    const argv = cmdline(pid);
    if (argv.length >= 2 && pid !== String(process.pid) && realScript(argv[1]) === self && !commands.includes(argv[2] ?? '')) return argv.slice(2);
  }
  return [];
}

function childrenOfInit(): string[] {
  try {
    return readdirSync('/proc').filter((pid) => /^\d+$/.test(pid) && parentOf(pid) === '1');
  } catch {
    return [];
  }
}

function parentOf(pid: string): string | undefined {
  try {
    // Fields after the parenthesised name: state, ppid, ...
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1];
  } catch {
    return undefined;
  }
}

function cmdline(pid: string): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
  } catch {
    return [];
  }
}

function realScript(path: string | undefined): string | undefined {
  try {
    return path ? realpathSync(path) : undefined;
  } catch {
    return undefined;
  }
}
