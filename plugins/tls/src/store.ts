// The TLS state every entrypoint reads: certificates and options merged from all providers, swapped atomically on reload.
import { createHash } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import { type CertificateSupply, type Logger } from '@wharf/core';
import { decode } from '@wharf/core/config';
import { CertificateIndex, loadCertificate, pemSource, type LoadedCertificate } from './certificates.js';
import { DEFAULT_OPTIONS } from './hosts.js';
import { compileOptions, type CompiledOptions } from './options.js';
import { TLSOptionsSchema, type CertificateConfig, type TLSOptionsConfig, type TLSSection } from './schema.js';

/** One immutable view of the TLS configuration; connections keep the one they started with. */
export class TLSSnapshot {
  private readonly contexts = new Map<string, SecureContext>();

  constructor(
    readonly generation: number,
    readonly index: CertificateIndex,
    readonly defaultCertificate: LoadedCertificate,
    /** Qualified name → compiled options, or why they cannot be used (handshakes needing them are refused). */
    readonly options: ReadonlyMap<string, CompiledOptions | Error>,
  ) {}

  /** The certificate for a server name: the most specific match, else the default one. */
  certificateFor(servername: string | undefined): LoadedCertificate {
    return this.index.match(servername) ?? this.defaultCertificate;
  }

  /** Secure context for options + certificate, built once per snapshot. */
  context(options: CompiledOptions, cert: LoadedCertificate): SecureContext {
    const key = `${options.name}\0${cert.id}`;
    let context = this.contexts.get(key);
    if (!context) {
      context = createSecureContext({ ...options.context, cert: cert.cert, key: cert.key });
      this.contexts.set(key, context);
    }
    return context;
  }

  /** Names of usable and unusable options alike (references to either are not "unknown"). */
  optionNames(): Set<string> {
    return new Set(this.options.keys());
  }
}

export interface ProviderSection {
  provider: string;
  value: unknown;
}

interface CertificateEntry {
  config: CertificateConfig;
  /** `tls.certificates[0]@file`, for messages. */
  where: string;
}

// Editors and `kubectl` replace files in several steps; one reload after the burst sees the final state.
const WATCH_DEBOUNCE_MS = 100;

/** Builds snapshots from the providers' `tls` sections and from the files they name, which it watches. */
export class TLSStore {
  private current: TLSSnapshot;
  private generation = 0;
  private sections: readonly ProviderSection[] = [];
  /** The sections as last applied, to tell a change from a reload that left tls alone. */
  private sectionsKey: string | undefined;
  /** Last certificate that loaded for a (certFile, keyFile) pair: a broken file keeps serving it. */
  private lastGood = new Map<string, LoadedCertificate>();
  private readonly watchers = new Map<string, FSWatcher>();
  /** Watched file → hash of the content last read, so directory events that change nothing are ignored. */
  private readonly fileHashes = new Map<string, string>();
  private reloadTimer: NodeJS.Timeout | undefined;
  private warnedSelfSigned = false;
  /** Certificates other plugins supplied (ACME), by source; served beside tls.certificates. */
  private readonly supplied = new Map<string, ReadonlyMap<string, LoadedCertificate>>();
  /** Told the certificates served after every build (metrics: wharf_tls_certs_not_after). */
  onCertificates: ((certificates: readonly LoadedCertificate[]) => void) | undefined;

  constructor(
    private readonly log: Logger,
    private readonly generated: LoadedCertificate,
  ) {
    this.current = this.build([]);
  }

  get snapshot(): TLSSnapshot {
    return this.current;
  }

  /** A new set of provider sections (from onDynamicConfig): rebuild, and watch the files it names. */
  configure(sections: readonly ProviderSection[]): void {
    // Most reloads (a container started) leave tls alone: keeping the snapshot keeps TLS session resumption working.
    const key = JSON.stringify(sections);
    if (key === this.sectionsKey) return;
    this.sectionsKey = key;
    this.sections = sections;
    this.swap(this.build(sections));
    this.warnIfSelfSigned();
  }

  /**
   * Certificates obtained at run time by another plugin (the `certificateSupply` event): the source's previous supply
   * is replaced and a new snapshot goes live; connections already established keep theirs.
   */
  supply({ source, certificates }: CertificateSupply): void {
    const previous = this.supplied.get(source) ?? new Map<string, LoadedCertificate>();
    const loaded = new Map<string, LoadedCertificate>();
    certificates.forEach((pair, i) => {
      const where = `${source} certificate ${i}`;
      try {
        loaded.set(pair.cert, previous.get(pair.cert) ?? loadCertificate(pemSource(pair.cert, `${where} cert`), pemSource(pair.key, `${where} key`)));
      } catch (err) {
        this.log.error({ source }, `${where}: ${(err as Error).message}; not served`);
      }
    });
    const unchanged = loaded.size === previous.size && [...loaded].every(([pem, cert]) => previous.get(pem) === cert);
    this.supplied.set(source, loaded);
    if (!unchanged) this.swap(this.build(this.sections));
  }

  /** Stops watching files. */
  close(): void {
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
  }

  private swap(next: TLSSnapshot): void {
    this.current = next;
    this.syncWatchers(next);
  }

  private build(sections: readonly ProviderSection[]): TLSSnapshot {
    const merged = this.merge(sections);
    const certificates = [...this.loadCertificates(merged.certificates), ...[...this.supplied.values()].flatMap((byPem) => [...byPem.values()])];
    const defaultCertificate = merged.defaultCertificate ? this.loadOne(merged.defaultCertificate) : undefined;
    const options = this.compileAll(merged.options);
    this.forgetUnused([...merged.certificates, ...(merged.defaultCertificate ? [merged.defaultCertificate] : [])]);
    this.onCertificates?.([...certificates, defaultCertificate ?? this.generated]);
    return new TLSSnapshot(++this.generation, new CertificateIndex(certificates), defaultCertificate ?? this.generated, options);
  }

  /** Concatenates certificates, qualifies option names per provider, picks the first default certificate. */
  private merge(sections: readonly ProviderSection[]): { certificates: CertificateEntry[]; options: Map<string, TLSOptionsConfig>; defaultCertificate?: CertificateEntry } {
    const certificates: CertificateEntry[] = [];
    const options = new Map<string, TLSOptionsConfig>();
    let defaultCertificate: CertificateEntry | undefined;
    for (const { provider, value } of sections) {
      const section = value as TLSSection;
      section.certificates?.forEach((config, i) => {
        const where = `tls.certificates[${i}]@${provider}`;
        const stores = config.stores ?? [];
        if (stores.some((s) => s !== 'default')) this.log.warn(`${where}: only the 'default' store exists; other stores are ignored`);
        if (stores.length === 0 || stores.includes('default')) certificates.push({ config, where });
      });
      for (const [name, config] of Object.entries(section.options ?? {})) {
        const qualified = name === DEFAULT_OPTIONS ? name : `${name}@${provider}`;
        if (options.has(qualified)) this.log.error(`tls.options.${name}@${provider}: the default TLS options are defined by several providers; the first one is used`);
        else options.set(qualified, config);
      }
      for (const [store, config] of Object.entries(section.stores ?? {})) {
        if (store !== 'default') this.log.warn(`tls.stores.${store}@${provider}: only the 'default' store exists; ignored`);
        else if (config.defaultCertificate && defaultCertificate) this.log.error(`tls.stores.default.defaultCertificate@${provider}: already defined by another provider; the first one is used`);
        else if (config.defaultCertificate) defaultCertificate = { config: config.defaultCertificate, where: `tls.stores.default.defaultCertificate@${provider}` };
      }
    }
    return { certificates, options, defaultCertificate };
  }

  private loadCertificates(entries: readonly CertificateEntry[]): LoadedCertificate[] {
    const loaded: LoadedCertificate[] = [];
    for (const entry of entries) {
      const cert = this.loadOne(entry);
      if (cert) loaded.push(cert);
    }
    return loaded;
  }

  /** Loads one pair; on failure reports the file and keeps the last version that loaded, if any. */
  private loadOne(entry: CertificateEntry): LoadedCertificate | undefined {
    const key = pairKey(entry.config);
    const previous = this.lastGood.get(key);
    try {
      const cert = loadCertificate(pemSource(entry.config.certFile, `${entry.where}.certFile`), pemSource(entry.config.keyFile, `${entry.where}.keyFile`));
      if (previous && previous.cert === cert.cert && previous.key === cert.key) return previous;
      this.lastGood.set(key, cert);
      if (previous) this.log.info({ certificate: cert.label }, `TLS certificate ${cert.label} reloaded (names: ${cert.names.join(', ')}; valid until ${cert.notAfter})`);
      return cert;
    } catch (err) {
      const keeping = previous ? '; keeping the certificate loaded before' : '; the certificate is not served';
      const message = (err as Error).message;
      // Read errors already start with the field (`<where>.certFile: cannot read …`): do not name it twice.
      const named = message.startsWith(`${entry.where}.`) ? message : `${entry.where}: ${message}`;
      this.log.error({ certificate: entry.where }, `${named}${keeping}`);
      return previous;
    }
  }

  /** Compiles every options set; `default` exists even when nobody defines it. Bad ones are kept as errors. */
  private compileAll(configs: Map<string, TLSOptionsConfig>): Map<string, CompiledOptions | Error> {
    if (!configs.has(DEFAULT_OPTIONS)) configs.set(DEFAULT_OPTIONS, decode<TLSOptionsConfig>(TLSOptionsSchema, {}).value);
    const compiled = new Map<string, CompiledOptions | Error>();
    for (const [name, config] of configs) {
      try {
        compiled.set(name, compileOptions(name, config));
      } catch (err) {
        this.log.error({ tlsOptions: name }, `${(err as Error).message}; handshakes that need these options are refused`);
        compiled.set(name, err as Error);
      }
    }
    return compiled;
  }

  private forgetUnused(entries: readonly CertificateEntry[]): void {
    const used = new Set(entries.map((e) => pairKey(e.config)));
    for (const key of [...this.lastGood.keys()]) if (!used.has(key)) this.lastGood.delete(key);
  }

  private warnIfSelfSigned(): void {
    const selfSigned = this.current.defaultCertificate === this.generated;
    if (selfSigned && !this.warnedSelfSigned) {
      this.log.warn(
        `TLS: no default certificate is configured, so clients without SNI or asking for a name no certificate covers get the ${this.generated.label}, which browsers do not trust. ` +
          'Set tls.stores.default.defaultCertificate.certFile and .keyFile in the dynamic configuration (and tls.certificates[] for your hosts).',
      );
    }
    this.warnedSelfSigned = selfSigned;
  }

  /** Watches the directories of every file in use (a directory watch also sees files replaced by rename). */
  private syncWatchers(snapshot: TLSSnapshot): void {
    const files = new Set<string>();
    for (const cert of this.lastGood.values()) for (const f of cert.files) files.add(resolve(f));
    for (const options of snapshot.options.values()) if (!(options instanceof Error)) for (const f of options.files) files.add(resolve(f));
    // Files that failed to load are watched too, so fixing them is picked up.
    for (const entry of this.configuredFiles()) files.add(resolve(entry));
    for (const file of [...this.fileHashes.keys()]) if (!files.has(file)) this.fileHashes.delete(file);
    for (const file of files) if (!this.fileHashes.has(file)) this.fileHashes.set(file, hashOf(file));
    const dirs = new Set([...files].map((f) => dirname(f)));
    for (const [dir, watcher] of this.watchers) {
      if (!dirs.has(dir)) {
        watcher.close();
        this.watchers.delete(dir);
      }
    }
    for (const dir of dirs) if (!this.watchers.has(dir)) this.watchDirectory(dir);
  }

  /** Every file path named by the current sections (certificates, default certificate, CA files). */
  private configuredFiles(): string[] {
    const files: string[] = [];
    const add = (value: string) => {
      const source = pemSource(value, '');
      if (source.file) files.push(source.file);
    };
    for (const { value } of this.sections) {
      const section = value as TLSSection;
      for (const c of section.certificates ?? []) {
        add(c.certFile);
        add(c.keyFile);
      }
      for (const store of Object.values(section.stores ?? {})) {
        if (!store.defaultCertificate) continue;
        add(store.defaultCertificate.certFile);
        add(store.defaultCertificate.keyFile);
      }
      for (const o of Object.values(section.options ?? {})) for (const ca of o.clientAuth?.caFiles ?? []) add(ca);
    }
    return files;
  }

  private watchDirectory(dir: string): void {
    try {
      const watcher = watch(dir, { persistent: false }, () => this.scheduleReload());
      watcher.on('error', (err) => this.log.error(`TLS: watching ${dir} failed: ${err.message}`));
      this.watchers.set(dir, watcher);
    } catch (err) {
      this.log.error(`TLS: cannot watch ${dir} for certificate changes: ${(err as Error).message}`);
    }
  }

  private scheduleReload(): void {
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => this.reloadIfFilesChanged(), WATCH_DEBOUNCE_MS);
  }

  /** Rebuilds from the same sections when a watched file's content changed; established connections keep theirs. */
  private reloadIfFilesChanged(): void {
    this.reloadTimer = undefined;
    const changed = [...this.fileHashes.entries()].filter(([file, hash]) => hashOf(file) !== hash).map(([file]) => file);
    if (changed.length === 0) return;
    for (const file of changed) this.fileHashes.set(file, hashOf(file));
    this.log.info({ files: changed }, `TLS: ${changed.map((f) => basename(f)).join(', ')} changed; reloading certificates`);
    this.swap(this.build(this.sections));
  }
}

function pairKey(config: CertificateConfig): string {
  return `${config.certFile}\0${config.keyFile}`;
}

/** Content hash of a file ('' when unreadable); only compared, never shown. */
function hashOf(file: string): string {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return '';
  }
}
