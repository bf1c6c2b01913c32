// Where a resolver keeps its account and certificates: Traefik's acme.json file, or Redis shared by every replica
// (with the order lock and the pending challenges, so any replica can answer the CA's validation requests).
import { randomUUID } from 'node:crypto';
import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { defineReducer, type PemPair, type SharedState } from '@wharf/core';
import { redisConnectionOptions, type RedisConnection } from '@wharf/redis';

/** A certificate as Traefik stores it: `domain.{main,sans}`, base64 of the PEM chain and of the PEM key. */
export interface StoredCertificate {
  domain: { main: string; sans?: string[] };
  certificate: string;
  key: string;
  Store?: string;
}

/** Traefik's account record: registration resource and the PKCS#1 DER key, base64. */
export interface StoredAccount {
  Email: string;
  Registration?: { body: Record<string, unknown>; uri?: string };
  PrivateKey: string;
  KeyType?: string;
}

/** One resolver's part of acme.json. */
export interface StoredData {
  Account?: StoredAccount | null;
  Certificates?: StoredCertificate[] | null;
}

/** Releases a lock; resolves once released. */
export type Unlock = () => Promise<void>;

/** What a resolver needs from its storage; the file and Redis stores behave the same from its side. */
export interface AcmeStore {
  /** Whether several gateways may share it (so pending challenges live in it). */
  readonly shared: boolean;
  load(): Promise<StoredData>;
  saveAccount(account: StoredAccount): Promise<void>;
  /** Adds or replaces the certificate for the same main domain. */
  saveCertificate(certificate: StoredCertificate): Promise<void>;
  /** One orderer at a time per resolver, across replicas; undefined when someone else holds it. */
  tryLock(ttlMs: number): Promise<Unlock | undefined>;
  putHttpToken(token: string, keyAuthorization: string): Promise<void>;
  httpToken(token: string): Promise<string | undefined>;
  removeHttpToken(token: string): Promise<void>;
  putAlpnChallenge(domain: string, pair: PemPair): Promise<void>;
  removeAlpnChallenge(domain: string): Promise<void>;
  alpnChallenges(): Promise<Map<string, PemPair>>;
  /** Called when another replica changed certificates or challenges. */
  onChange(listener: () => void): void;
  close(): Promise<void>;
}

/** Redis keys expire so a crashed orderer cannot hold a challenge or the lock forever. */
const CHALLENGE_TTL_S = 15 * 60;

// With --workers every worker runs the resolver: the lock, the pending challenges and a change counter live in the
// primary (shared reducers), so one worker orders and any worker answers the CA's validation request.
interface LockArg {
  op: 'take' | 'release';
  owner: string;
  ttlMs?: number;
}
defineReducer('acme.lock', (state, key, arg) => {
  const { op, owner, ttlMs } = arg as LockArg;
  const held = state.get(key) as { owner: string; until: number } | undefined;
  if (op === 'release') {
    if (held?.owner === owner) state.delete(key);
    return true;
  }
  if (held && held.until > Date.now() && held.owner !== owner) return false;
  state.set(key, { owner, until: Date.now() + (ttlMs ?? 0) });
  return true;
});
defineReducer('acme.challenge', (state, key, arg) => {
  const { op, value } = arg as { op: 'set' | 'get' | 'delete'; value?: unknown };
  if (op === 'set') state.set(key, value);
  else if (op === 'delete') state.delete(key);
  return state.get(key);
});
defineReducer('acme.alpn', (state, key, arg) => {
  const { op, domain, pair } = arg as { op: 'set' | 'delete' | 'all'; domain?: string; pair?: PemPair };
  const map = (state.get(key) as Record<string, PemPair> | undefined) ?? {};
  if (op === 'set') state.set(key, { ...map, [domain!]: pair! });
  else if (op === 'delete') {
    const { [domain!]: _removed, ...rest } = map;
    state.set(key, rest);
  }
  return state.get(key) ?? {};
});
defineReducer('acme.version', (state, key, arg) => {
  const next = ((state.get(key) as number | undefined) ?? 0) + (arg === 'bump' ? 1 : 0);
  state.set(key, next);
  return next;
});

// How often workers look for certificates or challenges another worker published.
const VERSION_POLL_MS = 1_000;

/**
 * acme.json in Traefik's format, shared by every resolver naming the same file; written whole, atomically
 * (temporary file + rename), mode 0600. The lock, challenges and change counter are shared state (the primary's
 * with --workers, this process's otherwise).
 */
export class FileStore implements AcmeStore {
  readonly shared = true;
  private readonly key: string;
  private poll: NodeJS.Timeout | undefined;

  constructor(
    private readonly file: FileStorage,
    private readonly resolver: string,
    private readonly state: SharedState,
  ) {
    this.key = `${file.path}\0${resolver}`;
  }

  async load(): Promise<StoredData> {
    return this.file.read()[this.resolver] ?? {};
  }

  async saveAccount(account: StoredAccount): Promise<void> {
    this.file.update(this.resolver, (data) => ({ ...data, Account: account }));
  }

  async saveCertificate(certificate: StoredCertificate): Promise<void> {
    this.file.update(this.resolver, (data) => ({ ...data, Certificates: withCertificate(data.Certificates ?? [], certificate) }));
    await this.changed();
  }

  async tryLock(ttlMs: number): Promise<Unlock | undefined> {
    const owner = randomUUID();
    const taken = await this.state.call<boolean>('acme.lock', this.key, { op: 'take', owner, ttlMs } satisfies LockArg);
    if (!taken) return undefined;
    return async () => {
      await this.state.call('acme.lock', this.key, { op: 'release', owner } satisfies LockArg);
    };
  }

  async putHttpToken(token: string, keyAuthorization: string): Promise<void> {
    await this.state.call('acme.challenge', `${this.file.path}\0${token}`, { op: 'set', value: keyAuthorization });
  }

  async httpToken(token: string): Promise<string | undefined> {
    return (await this.state.call<string | undefined>('acme.challenge', `${this.file.path}\0${token}`, { op: 'get' })) ?? undefined;
  }

  async removeHttpToken(token: string): Promise<void> {
    await this.state.call('acme.challenge', `${this.file.path}\0${token}`, { op: 'delete' });
  }

  async putAlpnChallenge(domain: string, pair: PemPair): Promise<void> {
    await this.state.call('acme.alpn', this.key, { op: 'set', domain, pair });
    await this.changed();
  }

  async removeAlpnChallenge(domain: string): Promise<void> {
    await this.state.call('acme.alpn', this.key, { op: 'delete', domain });
    await this.changed();
  }

  async alpnChallenges(): Promise<Map<string, PemPair>> {
    return new Map(Object.entries(await this.state.call<Record<string, PemPair>>('acme.alpn', this.key, { op: 'all' })));
  }

  /** Polls the shared change counter: another worker obtained a certificate or published a challenge. */
  onChange(listener: () => void): void {
    let seen: number | undefined;
    const check = async () => {
      const version = await this.state.call<number>('acme.version', this.key, 'read').catch(() => seen);
      if (seen !== undefined && version !== seen) listener();
      seen = version;
    };
    void check();
    this.poll = setInterval(() => void check(), VERSION_POLL_MS);
    this.poll.unref();
  }

  async close(): Promise<void> {
    if (this.poll) clearInterval(this.poll);
  }

  private async changed(): Promise<void> {
    await this.state.call('acme.version', this.key, 'bump');
  }
}

/** The acme.json file itself: every resolver's data under its name. */
export class FileStorage {
  constructor(readonly path: string) {}

  /** The whole file; a missing or empty file is an empty store. A file that is not JSON is an error naming it. */
  read(): Record<string, StoredData> {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new Error(`acme storage ${this.path}: cannot read: ${(err as Error).message}`, { cause: err });
    }
    if (text.trim() === '') return {};
    try {
      return JSON.parse(text) as Record<string, StoredData>;
    } catch (err) {
      throw new Error(`acme storage ${this.path}: not JSON (${(err as Error).message}); fix or remove the file`, { cause: err });
    }
  }

  update(resolver: string, change: (data: StoredData) => StoredData): void {
    const all = this.read();
    all[resolver] = change(all[resolver] ?? {});
    const temporary = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 });
    chmodSync(temporary, 0o600);
    renameSync(temporary, this.path);
  }
}

/** Redis store: one hash of certificates per resolver, the account, the lock, challenges, and a change channel. */
export class RedisStore implements AcmeStore {
  readonly shared = true;
  private readonly redis: Redis;
  private subscriber: Redis | undefined;
  private readonly prefix: string;
  private readonly channel: string;
  private readonly self = randomUUID();

  private readonly where: string;

  /** `connection`: a `redis://` URL, or the redis section's settings (storage: redis). */
  constructor(connection: string | RedisConnection, resolver: string, field = 'redis') {
    if (typeof connection === 'string') {
      this.redis = new Redis(connection, { lazyConnect: false, maxRetriesPerRequest: 2 });
      const parsed = new URL(connection);
      this.where = `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`; // never the password
    } else {
      const { nodes, redis, description } = redisConnectionOptions(connection, field);
      this.redis = new Redis({ ...redis, ...nodes[0], maxRetriesPerRequest: 2 });
      this.where = `${connection.tls ? 'rediss' : 'redis'}://${description}${connection.db ? `/${connection.db}` : ''}`;
    }
    this.redis.on('error', () => undefined); // surfaced by the failing commands, with the resolver named
    this.prefix = `wharf:acme:${resolver}:`;
    this.channel = `${this.prefix}changed`;
  }

  /** Redis errors name the store (without credentials), so the log and the API say which one is down. */
  private named<T>(operation: Promise<T>): Promise<T> {
    return operation.catch((err: unknown) => {
      throw new Error(`Redis store ${this.where}: ${(err as Error).message}`, { cause: err });
    });
  }

  async load(): Promise<StoredData> {
    const [account, certificates] = await this.named(Promise.all([this.redis.get(`${this.prefix}account`), this.redis.hvals(`${this.prefix}certificates`)]));
    return {
      Account: account ? (JSON.parse(account) as StoredAccount) : undefined,
      Certificates: certificates.map((c) => JSON.parse(c) as StoredCertificate),
    };
  }

  async saveAccount(account: StoredAccount): Promise<void> {
    await this.redis.set(`${this.prefix}account`, JSON.stringify(account));
  }

  async saveCertificate(certificate: StoredCertificate): Promise<void> {
    await this.redis.hset(`${this.prefix}certificates`, certificate.domain.main, JSON.stringify(certificate));
    await this.changed();
  }

  async tryLock(ttlMs: number): Promise<Unlock | undefined> {
    const key = `${this.prefix}lock`;
    const owner = randomUUID();
    const taken = await this.named(this.redis.set(key, owner, 'PX', ttlMs, 'NX'));
    if (taken !== 'OK') return undefined;
    return async () => {
      // Only the owner deletes: a lock that expired and was taken by another replica stays theirs.
      await this.redis.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end", 1, key, owner);
    };
  }

  async putHttpToken(token: string, keyAuthorization: string): Promise<void> {
    await this.redis.set(`wharf:acme:http01:${token}`, keyAuthorization, 'EX', CHALLENGE_TTL_S);
  }

  async httpToken(token: string): Promise<string | undefined> {
    return (await this.redis.get(`wharf:acme:http01:${token}`)) ?? undefined;
  }

  async removeHttpToken(token: string): Promise<void> {
    await this.redis.del(`wharf:acme:http01:${token}`);
  }

  async putAlpnChallenge(domain: string, pair: PemPair): Promise<void> {
    await this.redis.hset(`${this.prefix}alpn`, domain, JSON.stringify(pair));
    await this.redis.expire(`${this.prefix}alpn`, CHALLENGE_TTL_S);
    await this.changed();
  }

  async removeAlpnChallenge(domain: string): Promise<void> {
    await this.redis.hdel(`${this.prefix}alpn`, domain);
    await this.changed();
  }

  async alpnChallenges(): Promise<Map<string, PemPair>> {
    const all = await this.redis.hgetall(`${this.prefix}alpn`);
    return new Map(Object.entries(all).map(([domain, pair]) => [domain, JSON.parse(pair) as PemPair]));
  }

  onChange(listener: () => void): void {
    this.subscriber = this.redis.duplicate();
    this.subscriber.on('error', () => undefined);
    // ioredis subscribes again after a reconnection; a Redis down now is reported by the store's reads. A change
    // published between the resolver's first read and the subscription taking effect would be missed (a challenge
    // another replica published, which this one must answer): read the store again once subscribed.
    this.subscriber.subscribe(this.channel).then(() => listener(), () => undefined);
    this.subscriber.on('message', (_channel: string, from: string) => {
      if (from !== this.self) listener();
    });
  }

  async close(): Promise<void> {
    this.subscriber?.disconnect();
    this.redis.disconnect();
  }

  private async changed(): Promise<void> {
    await this.redis.publish(this.channel, this.self);
  }
}

/** The certificate list with `certificate` replacing the one for the same main domain. */
function withCertificate(list: readonly StoredCertificate[], certificate: StoredCertificate): StoredCertificate[] {
  return [...list.filter((c) => c.domain.main !== certificate.domain.main), certificate];
}
