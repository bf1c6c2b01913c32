// The TLS store, made when TLS is first needed: a TLS entrypoint at start-up, a router with `tls` on a plain
// entrypoint, or a ClientHello arriving there. Generating the default certificate costs tens of milliseconds,
// which a gateway that never terminates TLS does not pay.
import type { Logger } from '@wharf/core';
import { generateDefaultCertificate } from './certificates.js';
import { TLSStore, type ProviderSection } from './store.js';

export class StoreHolder {
  private store: TLSStore | undefined;
  private pending: Promise<TLSStore> | undefined;
  private sections: readonly ProviderSection[] = [];
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

  close(): void {
    this.closed = true;
    this.store?.close();
  }

  private async create(): Promise<TLSStore> {
    const store = new TLSStore(this.log, await generateDefaultCertificate());
    store.configure(this.sections);
    this.store = store;
    if (this.closed) store.close();
    else this.onCreated(store);
    return store;
  }
}
