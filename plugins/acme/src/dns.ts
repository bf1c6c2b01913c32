// DNS-01: a small provider interface, lego's `exec` and `httpreq` providers (configured through the same environment
// variables as in Traefik), and the propagation check before the CA is asked to validate.
import { execFile } from 'node:child_process';
import { Resolver as DnsResolver } from 'node:dns/promises';
import { promisify } from 'node:util';
import { messageOf } from '@wharf/core';

const execFileAsync = promisify(execFile);

/** One TXT record to publish for a DNS-01 challenge. */
export interface DnsRecord {
  /** `_acme-challenge.<domain>.` (with the trailing dot, as lego gives it). */
  fqdn: string;
  /** The record's value: base64url(SHA-256(key authorization)). */
  value: string;
  /** The domain being validated (without `*.`). */
  domain: string;
}

/** Publishes and removes TXT records at a DNS host. */
export interface DnsProvider {
  present(record: DnsRecord): Promise<void>;
  cleanup(record: DnsRecord): Promise<void>;
}

type Env = Readonly<Record<string, string | undefined>>;

function required(env: Env, name: string, provider: string): string {
  const value = env[name];
  if (!value) throw new Error(`dnsChallenge.provider: '${provider}' needs the environment variable ${name} (as in Traefik/lego)`);
  return value;
}

/** lego's RAW modes pass the key authorization itself: not offered yet. */
function refuseRawMode(env: Env, variable: string): void {
  if (env[variable] === 'RAW') throw new Error(`dnsChallenge.provider: ${variable}=RAW is not supported yet by Wharf; unset it (the default mode receives the fqdn and the record value)`);
}

/** lego's `exec`: runs EXEC_PATH with `present|cleanup <fqdn> <value>`. */
function execProvider(env: Env): DnsProvider {
  const path = required(env, 'EXEC_PATH', 'exec');
  refuseRawMode(env, 'EXEC_MODE');
  const run = async (action: string, record: DnsRecord) => {
    const args = [action, record.fqdn, record.value];
    try {
      await execFileAsync(path, args, { timeout: 60_000 });
    } catch (err) {
      const stderr = (err as { stderr?: string }).stderr?.trim();
      throw new Error(`DNS provider exec: ${path} ${action} ${record.fqdn} failed: ${stderr || messageOf(err)}`, { cause: err });
    }
  };
  return { present: (r) => run('present', r), cleanup: (r) => run('cleanup', r) };
}

/** lego's `httpreq`: POSTs `{"fqdn", "value"}` to HTTPREQ_ENDPOINT/present and /cleanup (basic auth with HTTPREQ_USERNAME/PASSWORD). */
function httpreqProvider(env: Env): DnsProvider {
  const endpoint = new URL(required(env, 'HTTPREQ_ENDPOINT', 'httpreq'));
  refuseRawMode(env, 'HTTPREQ_MODE');
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (env.HTTPREQ_USERNAME) headers.authorization = `Basic ${Buffer.from(`${env.HTTPREQ_USERNAME}:${env.HTTPREQ_PASSWORD ?? ''}`).toString('base64')}`;
  const post = async (action: string, record: DnsRecord) => {
    const url = new URL(`${endpoint.pathname.replace(/\/$/, '')}/${action}`, endpoint);
    const body = { fqdn: record.fqdn, value: record.value };
    const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) }).catch((err: unknown) => {
      throw new Error(`DNS provider httpreq: POST ${url.origin}${url.pathname} failed: ${messageOf(err)}`, { cause: err });
    });
    if (!response.ok) throw new Error(`DNS provider httpreq: POST ${url.origin}${url.pathname} answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
  };
  return { present: (r) => post('present', r), cleanup: (r) => post('cleanup', r) };
}

/** Makes a provider from the environment (lego's variables in Traefik); throws naming what is missing. */
export type DnsProviderFactory = (env: Readonly<Record<string, string | undefined>>) => DnsProvider;

const BUILT_IN: ReadonlyMap<string, DnsProviderFactory> = new Map([
  ['exec', execProvider],
  ['httpreq', httpreqProvider],
]);
const PROVIDERS = new Map<string, DnsProviderFactory>(BUILT_IN);

/**
 * Adds a DNS provider for `dnsChallenge.provider=<name>`. A plugin calls it when its module is loaded (every plugin
 * module is imported before any resolver starts); a name already taken is refused.
 */
export function registerDnsProvider(name: string, factory: DnsProviderFactory): void {
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(name)) throw new Error(`registerDnsProvider: a provider name is lower-case letters, digits, '.', '_' or '-', got ${JSON.stringify(name)}`);
  if (typeof factory !== 'function') throw new Error(`registerDnsProvider: the factory of '${name}' must be a function (env) => ({ present, cleanup }), got ${typeof factory}`);
  if (PROVIDERS.has(name)) throw new Error(`registerDnsProvider: a DNS provider '${name}' is already registered${BUILT_IN.has(name) ? ' (built in)' : ''}; choose another name`);
  PROVIDERS.set(name, factory);
}

/** The provider named in `dnsChallenge.provider`, configured from the environment; throws naming what is missing. */
export function dnsProvider(name: string, env: Env = process.env): DnsProvider {
  const make = PROVIDERS.get(name);
  if (!make) {
    const added = [...PROVIDERS.keys()].filter((n) => !BUILT_IN.has(n));
    const known = `built in: ${[...BUILT_IN.keys()].join(', ')}${added.length ? `; from plugins: ${added.join(', ')}` : ''}`;
    throw new Error(`dnsChallenge.provider: Wharf has no DNS provider '${name}' yet (${known}; exec runs your script for any DNS host, and a plugin can add one with registerDnsProvider)`);
  }
  if (BUILT_IN.has(name)) return make(env);
  try {
    return make(env);
  } catch (err) {
    throw new Error(`dnsChallenge.provider: '${name}' (from a plugin) cannot start: ${messageOf(err)}`, { cause: err });
  }
}

/**
 * Waits until every resolver (or the system's) answers the TXT value, polling every `intervalMs`; throws after
 * `timeoutMs` naming the record and the servers.
 */
export async function waitForTxt(fqdn: string, value: string, servers: readonly string[], timeoutMs = 60_000, intervalMs = 2_000): Promise<void> {
  const resolver = new DnsResolver({ timeout: 2_000, tries: 1 });
  if (servers.length > 0) resolver.setServers([...servers]);
  const name = fqdn.replace(/\.$/, '');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = await resolver.resolveTxt(name).then(
      (records) => records.some((chunks) => chunks.join('') === value),
      () => false,
    );
    if (seen) return;
    if (Date.now() > deadline) throw new Error(`DNS-01: the TXT record ${fqdn} is not visible through ${servers.length ? servers.join(', ') : 'the system resolvers'} after ${timeoutMs / 1000}s`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
