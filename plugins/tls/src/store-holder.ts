// The TLS store, made when TLS is first needed: a TLS entrypoint at start-up, a router with `tls` on a plain
// entrypoint, or a ClientHello arriving there. Generating the default certificate costs tens of milliseconds,
// which a gateway that never terminates TLS does not pay.
import type { CertificateSupply, Logger, PemPair } from '@wharf/core';
import { generateDefaultCertificate } from './certificates.js';
import { TLSStore, type ProviderSection } from './store.js';

export class StoreHolder {
  private store: TLSStore | undefined;
  private pending: Promise<TLSStore> | undefined;
  private sections: readonly ProviderSection[] = [];
  /** The latest certificate supply of each source (ACME), replayed into the store when it is made. */
  private readonly supplies = new Map<string, CertificateSupply>();
  private closed = false;

  constructor(
    private readonly log: Logger,
    private readonly onCreated: (store: TLSStore) => void,
  ) {}

  /** The store, once made. */
  get current(): TLSStore | undefined {
    return this.store;
  }

  /** Makes the store on the first call; later calls get the same one. */
  ready(): Promise<TLSStore> {
    return (this.pending ??= this.create());
  }

  /** The providers' `tls` sections: applied now, or when the store is made. */
  configure(sections: readonly ProviderSection[]): void {
    this.sections = sections;
    this.store?.configure(sections);
  }

  /** Certificates another plugin obtained: served once the store exists, which they cause to be made. */
  supply(supply: CertificateSupply): void {
    this.supplies.set(supply.source, supply);
    if (this.store) this.store.supply(supply);
    else if (supply.certificates.length > 0 || (supply.challenges?.size ?? 0) > 0) void this.ready();
  }

  /** The TLS-ALPN-01 certificate for a server name, when a challenge for it is pending (no store needed). */
  challengeFor(servername: string | undefined): PemPair | undefined {
    if (!servername) return undefined;
    const name = servername.toLowerCase();
    for (const { challenges } of this.supplies.values()) {
      const pair = challenges?.get(name);
      if (pair) return pair;
    }
    return undefined;
  }

  close(): void {
    this.closed = true;
    this.store?.close();
  }

  private async create(): Promise<TLSStore> {
    const store = new TLSStore(this.log, await generateDefaultCertificate());
    store.configure(this.sections);
    for (const supply of this.supplies.values()) store.supply(supply);
    this.store = store;
    if (this.closed) store.close();
    else this.onCreated(store);
    return store;
  }
}
