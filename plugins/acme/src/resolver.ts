// One certificate resolver: its ACME account, the certificates it holds, orders (once per domain set, one replica at
// a time), HTTP-01 / TLS-ALPN-01 challenges, and renewal on Traefik's schedule.
import { X509Certificate, createPrivateKey, generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import acme from 'acme-client';
import { messageOf, type CertificateResolverInfo, type Logger, type PemPair } from '@wharf/core';
import { waitForTxt, type DnsProvider } from './dns.js';
import type { AcmeConfig } from './schema.js';
import type { AcmeStore, StoredAccount, StoredCertificate } from './store.js';

/** A set of domains one certificate must cover: main first (its CN), then the SANs. */
export interface DomainSet {
  main: string;
  sans: readonly string[];
}

export interface ResolverDeps {
  name: string;
  config: AcmeConfig;
  store: AcmeStore;
  log: Logger;
  /** Told whenever the certificates or pending TLS-ALPN-01 challenges change. */
  changed(): void;
  /** The DNS-01 provider, when the resolver has dnsChallenge. */
  dns?: DnsProvider;
  /** Told when an order failed: the message names the resolver and the domains (for the routers that need them). */
  failed(set: DomainSet, message: string): void;
}

/** A certificate ready to serve, with what it covers and until when. */
interface HeldCertificate {
  domains: ReadonlySet<string>;
  main: string;
  sans: readonly string[];
  pair: PemPair;
  notAfter: number;
}

// The lock outlives a slow order but not a crashed replica by much.
const LOCK_TTL_MS = 5 * 60_000;
// Retry schedule after a failed order: 1 min doubling to 1 h (Let's Encrypt allows 5 failures per hour and name).
const RETRY_MIN_MS = 60_000;
const RETRY_MAX_MS = 3_600_000;
// Another replica holds the lock: look again at this pace (its result also arrives through the store's change events).
const LOCKED_POLL_MS = 2_000;
// A store that cannot be read (Redis down) is read again at this pace.
const STORE_RETRY_MS = 10_000;
// How often the CA is asked whether a challenge or an order is done: 1 s doubling to 10 s, about 215 s in all (the
// patience of acme-client's default 5 s doubling to 30 s, and of lego's). A CA validates in about a second, so the
// certificate is served then rather than at acme-client's first look 5 s later.
const STATUS_POLLING = { backoffMin: 1_000, backoffMax: 10_000, backoffAttempts: 25 } as const;

const STORAGE_PROBLEM = ' storage';

const generateKeyPairAsync = promisify(generateKeyPair);

/**
 * When to renew: Traefik's table (pkg/provider/acme getCertificateRenewDurations) of how long before expiry a
 * certificate is renewed and how often that is checked, from certificatesDuration in hours.
 */
export function renewDurations(certificatesDurationHours: number): { renewBeforeMs: number; checkEveryMs: number } {
  const hour = 3_600_000;
  const day = 24 * hour;
  if (certificatesDurationHours >= 365 * 24) return { renewBeforeMs: 120 * day, checkEveryMs: 7 * day };
  if (certificatesDurationHours >= 90 * 24) return { renewBeforeMs: 30 * day, checkEveryMs: day };
  if (certificatesDurationHours >= 30 * 24) return { renewBeforeMs: 10 * day, checkEveryMs: 12 * hour };
  if (certificatesDurationHours >= 6 * 24) return { renewBeforeMs: 2 * day, checkEveryMs: 2 * hour };
  if (certificatesDurationHours >= 24) return { renewBeforeMs: 6 * hour, checkEveryMs: 10 * 60_000 };
  return { renewBeforeMs: 20 * 60_000, checkEveryMs: 60_000 };
}

/** How long to wait before ordering again after `failures` failed orders in a row: 1 min doubling to 1 h. */
export function retryDelayMs(failures: number): number {
  return Math.min(RETRY_MIN_MS * 2 ** (failures - 1), RETRY_MAX_MS);
}

/** The key of a domain set, to order each set once at a time. */
export function setKey(set: DomainSet): string {
  return [set.main, ...set.sans].join(',');
}

export class Resolver {
  private held: HeldCertificate[] = [];
  private alpn = new Map<string, PemPair>();
  private wanted: DomainSet[] = [];
  private readonly inFlight = new Set<string>();
  private readonly failures = new Map<string, { count: number; retryAt: number }>();
  /** Current problems for the API: by domain-set key, and STORAGE_PROBLEM while the store cannot be read. */
  private readonly problems = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private storeRetry: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly renew: { renewBeforeMs: number; checkEveryMs: number };
  private readonly log: Logger;

  constructor(private readonly deps: ResolverDeps) {
    this.log = deps.log.child({ resolver: deps.name });
    this.renew = renewDurations(deps.config.certificatesDuration);
  }

  get name(): string {
    return this.deps.name;
  }

  /** Whether this resolver can order wildcard names (only DNS-01 proves control of a whole zone). */
  get wildcards(): boolean {
    return this.deps.config.dnsChallenge !== undefined;
  }

  get store(): AcmeStore {
    return this.deps.store;
  }

  /** Certificates to serve now. */
  certificates(): PemPair[] {
    return this.held.map((h) => h.pair);
  }

  /** Pending TLS-ALPN-01 challenge certificates, by domain. */
  challenges(): ReadonlyMap<string, PemPair> {
    return this.alpn;
  }

  /** The last failure to obtain `set`, while it stands: each new configuration generation shows it on its routers again. */
  problemFor(set: DomainSet): string | undefined {
    return this.problems.get(setKey(set));
  }

  /** What the API shows: the CA, the challenges, the certificates held with their expiry, and current errors. */
  info(): CertificateResolverInfo {
    return {
      name: this.name,
      caServer: this.deps.config.caServer,
      challenges: this.challengeTypes(),
      certificates: this.held.map((h) => ({ domains: { main: h.main, sans: h.sans }, notAfter: Math.floor(h.notAfter / 1000) })),
      errors: [...this.problems.values()],
    };
  }

  /** Loads stored certificates, follows other replicas' changes, and starts the renewal checks. */
  async start(): Promise<void> {
    this.deps.store.onChange(() => void this.reload().catch((err) => this.storeUnavailable(err)));
    await this.reload().catch((err) => this.storeUnavailable(err));
    this.schedule(this.renew.checkEveryMs);
  }

  /** The store cannot be read (Redis down): serve what is held, say so, and read it again soon. */
  private storeUnavailable(err: unknown): void {
    const message = `acme resolver ${this.name}: cannot read its storage: ${messageOf(err)}; retrying in ${STORE_RETRY_MS / 1000}s`;
    this.log.error(message);
    this.problems.set(STORAGE_PROBLEM, message);
    this.deps.changed();
    if (this.stopped || this.storeRetry) return;
    this.storeRetry = setTimeout(() => {
      this.storeRetry = undefined;
      if (!this.stopped) void this.reload().then(() => this.checkRenewals(), (e) => this.storeUnavailable(e));
    }, STORE_RETRY_MS);
    this.storeRetry.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.storeRetry) clearTimeout(this.storeRetry);
  }

  /**
   * The domain sets the routers need now; orders what no held certificate covers, and renews what expires within
   * the renewal window (at start too, as Traefik does).
   */
  want(sets: readonly DomainSet[]): void {
    this.wanted = [...sets];
    const keys = new Set(sets.map(setKey));
    let dropped = false;
    for (const key of this.problems.keys()) if (key !== STORAGE_PROBLEM && !keys.has(key)) dropped = this.problems.delete(key);
    if (dropped) this.deps.changed();
    this.checkRenewals();
  }

  /** Re-reads the store (certificates another replica obtained, challenges it published). */
  async reload(): Promise<void> {
    const data = await this.deps.store.load();
    this.problems.delete(STORAGE_PROBLEM);
    this.held = (data.Certificates ?? []).flatMap((c) => this.decode(c));
    if (this.deps.store.shared) this.alpn = await this.deps.store.alpnChallenges();
    this.deps.changed();
  }

  private decode(stored: StoredCertificate): HeldCertificate[] {
    try {
      const cert = Buffer.from(stored.certificate, 'base64').toString('utf8');
      const key = Buffer.from(stored.key, 'base64').toString('utf8');
      const x509 = new X509Certificate(cert);
      const sans = stored.domain.sans ?? [];
      return [{ domains: new Set([stored.domain.main, ...sans].map((d) => d.toLowerCase())), main: stored.domain.main, sans, pair: { cert, key }, notAfter: Date.parse(x509.validTo) }];
    } catch (err) {
      this.log.error(`acme resolver ${this.name}: stored certificate for ${stored.domain?.main} cannot be read (${messageOf(err)}); it will be ordered again`);
      return [];
    }
  }

  private covered(set: DomainSet, renewing: boolean): boolean {
    const now = Date.now();
    return this.held.some(
      (h) => [set.main, ...set.sans].every((d) => h.domains.has(d)) && (!renewing || h.notAfter - now > this.renew.renewBeforeMs),
    );
  }

  /** Orders every wanted set that no held certificate covers for longer than the renewal window. */
  private checkRenewals(): void {
    for (const set of this.wanted) if (!this.covered(set, true)) this.order(set);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.checkRenewals();
      this.schedule(this.renew.checkEveryMs);
    }, ms);
    this.timer.unref();
  }

  /** Orders one domain set unless it is already being ordered here or is waiting for its retry time. */
  private order(set: DomainSet): void {
    const key = setKey(set);
    if (this.inFlight.has(key) || this.stopped) return;
    const failure = this.failures.get(key);
    if (failure && Date.now() < failure.retryAt) return;
    this.inFlight.add(key);
    void this.orderUnderLock(set)
      .then(() => {
        this.failures.delete(key);
        if (this.problems.delete(key)) this.deps.changed();
      })
      .catch((err) => this.failed(set, err))
      .finally(() => this.inFlight.delete(key));
  }

  private failed(set: DomainSet, err: unknown): void {
    const key = setKey(set);
    const count = (this.failures.get(key)?.count ?? 0) + 1;
    const wait = retryDelayMs(count);
    this.failures.set(key, { count, retryAt: Date.now() + wait });
    const message = `acme resolver ${this.name}: cannot obtain a certificate for ${key}: ${messageOf(err)}; retrying in ${Math.round(wait / 1000)}s (the default certificate is served meanwhile)`;
    this.problems.set(key, message);
    this.deps.failed(set, message);
    this.deps.changed();
    const retry = setTimeout(() => this.stopped || this.checkRenewals(), wait);
    retry.unref();
  }

  /** Takes the resolver's lock (waiting while another replica holds it), re-checks the store, then orders. */
  private async orderUnderLock(set: DomainSet): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const unlock = await this.deps.store.tryLock(LOCK_TTL_MS);
      if (unlock) {
        try {
          await this.reload();
          if (this.covered(set, true)) return; // another replica (or an earlier order here) got it meanwhile
          await this.obtain(set);
          return;
        } finally {
          await unlock();
        }
      }
      await new Promise((resolve) => setTimeout(resolve, LOCKED_POLL_MS));
      await this.reload();
      if (this.covered(set, true)) return;
    }
  }

  /** One ACME order: account, CSR, challenges, certificate; then stored and served. */
  private async obtain(set: DomainSet): Promise<void> {
    const started = Date.now();
    const account = await this.client();
    const { client } = account;
    const [key, csr] = await this.csr(set);
    const { config } = this.deps;
    // TXT records are removed once every authorization is done, as lego does: a wildcard and its base name publish two
    // values under one name, validated concurrently, and many DNS APIs remove all the values of a name at once.
    const txtCleanups: Array<() => Promise<void>> = [];
    let cert: string;
    try {
      cert = await client.auto({
        csr,
        email: config.email,
        termsOfServiceAgreed: true,
        challengePriority: this.challengeTypes(),
        skipChallengeVerification: true,
        ...(config.preferredChain ? { preferredChain: config.preferredChain } : {}),
        challengeCreateFn: (authz, challenge, keyAuthorization) => this.publish(authz, challenge, keyAuthorization),
        challengeRemoveFn: async (authz, challenge, keyAuthorization) => {
          if (challenge.type === 'dns-01') txtCleanups.push(() => this.withdraw(authz, challenge, keyAuthorization));
          else await this.withdraw(authz, challenge, keyAuthorization);
        },
      });
    } finally {
      await this.removeTxtRecords(set, txtCleanups);
    }
    await this.saveAccount(account);
    await this.deps.store.saveCertificate({
      domain: { main: set.main, ...(set.sans.length > 0 ? { sans: [...set.sans] } : {}) },
      certificate: Buffer.from(cert).toString('base64'),
      key: key.toString('base64'),
      Store: 'default',
    });
    this.log.info({ domains: [set.main, ...set.sans] }, `acme resolver ${this.name}: certificate obtained for ${setKey(set)} in ${Date.now() - started}ms`);
    await this.reload();
  }

  /** Runs the DNS provider's cleanups after the order; a failure is logged (the order's outcome stands, as in acme-client). */
  private async removeTxtRecords(set: DomainSet, cleanups: ReadonlyArray<() => Promise<void>>): Promise<void> {
    for (const cleanup of cleanups) {
      await cleanup().catch((err: unknown) => this.log.warn({ domains: [set.main, ...set.sans] }, `acme resolver ${this.name}: DNS-01 cleanup for ${setKey(set)} failed: ${messageOf(err)}`));
    }
  }

  /** Challenge types in Traefik's order of preference: DNS-01 when configured, else HTTP-01, then TLS-ALPN-01. */
  challengeTypes(): string[] {
    const { config } = this.deps;
    if (config.dnsChallenge) return ['dns-01'];
    return [...(config.httpChallenge ? ['http-01'] : []), ...(config.tlsChallenge ? ['tls-alpn-01'] : [])];
  }

  private async publish(authz: { identifier: { value: string } }, challenge: { type: string; token: string }, keyAuthorization: string): Promise<void> {
    const domain = authz.identifier.value.toLowerCase();
    if (challenge.type === 'dns-01') return this.publishTxt(domain, keyAuthorization);
    if (challenge.type === 'http-01') await this.deps.store.putHttpToken(challenge.token, keyAuthorization);
    else if (challenge.type === 'tls-alpn-01') {
      const [key, cert] = await acme.crypto.createAlpnCertificate(authz as never, keyAuthorization);
      const pair = { cert: cert.toString(), key: key.toString() };
      this.alpn.set(domain, pair);
      await this.deps.store.putAlpnChallenge(domain, pair);
      this.deps.changed();
    } else throw new Error(`challenge ${challenge.type} is not supported`);
    const delay = challenge.type === 'http-01' ? this.deps.config.httpChallenge?.delay : this.deps.config.tlsChallenge?.delay;
    if (delay) await new Promise((resolve) => setTimeout(resolve, delay));
  }

  /** DNS-01: the provider publishes `_acme-challenge.<domain>`, then (unless disabled) the record is looked up. */
  private async publishTxt(domain: string, value: string): Promise<void> {
    const dns = this.deps.config.dnsChallenge!;
    await this.deps.dns!.present({ fqdn: `_acme-challenge.${domain}.`, value, domain });
    const delay = dns.propagation?.delayBeforeChecks ?? dns.delayBeforeCheck ?? 0;
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    if (!(dns.propagation?.disableChecks ?? dns.disablePropagationCheck)) await waitForTxt(`_acme-challenge.${domain}.`, value, dns.resolvers ?? []);
  }

  private async withdraw(authz: { identifier: { value: string } }, challenge: { type: string; token: string }, keyAuthorization: string): Promise<void> {
    const domain = authz.identifier.value.toLowerCase();
    if (challenge.type === 'dns-01') await this.deps.dns!.cleanup({ fqdn: `_acme-challenge.${domain}.`, value: keyAuthorization, domain });
    else if (challenge.type === 'http-01') await this.deps.store.removeHttpToken(challenge.token);
    else if (challenge.type === 'tls-alpn-01') {
      this.alpn.delete(domain);
      await this.deps.store.removeAlpnChallenge(domain);
      this.deps.changed();
    }
  }

  /** The key-authorization an HTTP-01 request asks for, if this resolver published it. */
  async httpToken(token: string): Promise<string | undefined> {
    return this.deps.store.httpToken(token);
  }

  /**
   * An ACME client with the stored account key, or a new one. The account URL is not reused: `auto` looks the key up
   * at the CA (or registers it), so an account from another CA or a Traefik file works the same.
   */
  private async client(): Promise<{ client: acme.Client; accountKey: string; storedUri: string | undefined }> {
    const { config } = this.deps;
    const stored = (await this.deps.store.load()).Account;
    const sameAccount = stored?.Email === config.email && Boolean(stored.PrivateKey);
    const accountKey = sameAccount ? accountKeyPem(stored.PrivateKey) : await newAccountKey();
    const client = new acme.Client({
      directoryUrl: config.caServer,
      accountKey,
      ...STATUS_POLLING,
      ...(config.eab ? { externalAccountBinding: { kid: config.eab.kid, hmacKey: config.eab.hmacEncoded } } : {}),
    });
    return { client, accountKey, storedUri: sameAccount ? stored.Registration?.uri : undefined };
  }

  /** Stores the account (Traefik's shape) when it is new or its URL changed. */
  private async saveAccount({ client, accountKey, storedUri }: Awaited<ReturnType<Resolver['client']>>): Promise<void> {
    const uri = client.getAccountUrl();
    if (uri === storedUri) return;
    const der = createPrivateKey(accountKey).export({ format: 'der', type: 'pkcs1' });
    const account: StoredAccount = {
      Email: this.deps.config.email,
      Registration: { body: { status: 'valid', contact: [`mailto:${this.deps.config.email}`] }, uri },
      PrivateKey: der.toString('base64'),
    };
    await this.deps.store.saveAccount(account);
  }

  private async csr(set: DomainSet): Promise<[Buffer, Buffer]> {
    const key = await certificateKey(this.deps.config.keyType);
    const [, csr] = await acme.crypto.createCsr({ commonName: set.main, altNames: [set.main, ...set.sans] }, key);
    return [key, csr];
  }
}

/** Traefik keeps the account key as PKCS#1 DER (RSA). */
function accountKeyPem(base64Der: string): string {
  return createPrivateKey({ key: Buffer.from(base64Der, 'base64'), format: 'der', type: 'pkcs1' }).export({ format: 'pem', type: 'pkcs1' }).toString();
}

/** RSA 4096 as Traefik's accounts (a Traefik acme.json must keep working), generated off the main thread. */
async function newAccountKey(): Promise<string> {
  const { privateKey } = await generateKeyPairAsync('rsa', { modulusLength: 4096 });
  return privateKey.export({ format: 'pem', type: 'pkcs1' }).toString();
}

async function certificateKey(keyType: AcmeConfig['keyType']): Promise<Buffer> {
  switch (keyType) {
    case 'EC256':
      return acme.crypto.createPrivateEcdsaKey('P-256');
    case 'EC384':
      return acme.crypto.createPrivateEcdsaKey('P-384');
    default:
      return acme.crypto.createPrivateRsaKey(Number(keyType.slice(3)));
  }
}
