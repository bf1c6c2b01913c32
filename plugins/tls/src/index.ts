// tls: TLS termination for entrypoints with `http.tls` and for routers with `tls` on any entrypoint — SNI certificates,
// TLS options, mTLS, HTTP/2 via ALPN, live reload — and for TCP routers with `tls` (the core's TLS terminator).
import { X509Certificate } from 'node:crypto';
import { definePlugin, Type, type PluginHost, type RuntimeInfo, type StaticConfig } from '@wharf/core';
import { isTLSEntryPoint } from '@wharf/core/config';
import type { LoadedCertificate } from './certificates.js';
import { buildHostOptions, misdirectedRequestCheck, type HostOptions } from './hosts.js';
import { EntryPointTLSSchema, TLSSectionSchema, type EntryPointTLSConfig } from './schema.js';
import { tlsServerFactory } from './server.js';
import { StoreHolder } from './store-holder.js';
import { tcpTerminator } from './tcp.js';

export type { TLSSection, TLSOptionsConfig, EntryPointTLSConfig } from './schema.js';

// Before routing, but after hooks that must see every request (access log, metrics) wrap the chain.
const MISDIRECTED_CHECK_ORDER = -10;

/** Every entrypoint with its `http.tls`, or `undefined` where TLS is decided per router (Traefik's model). */
function entrypointsTLS(staticConfig: PluginHost['staticConfig']): Map<string, EntryPointTLSConfig | undefined> {
  const found = new Map<string, EntryPointTLSConfig | undefined>();
  for (const [name, ep] of Object.entries((staticConfig as StaticConfig).entryPoints)) {
    found.set(name, isTLSEntryPoint(ep) ? (ep.http as unknown as { tls: EntryPointTLSConfig }).tls : undefined);
  }
  return found;
}

/**
 * Wires one entrypoint: its server (all TLS, or mixed: TLS for routers with `tls`, plain HTTP for the others), its
 * host → options map (rebuilt on each reload) and the 421 check.
 */
function serveTLS(host: PluginHost, store: StoreHolder, entrypoint: string, config: EntryPointTLSConfig | undefined): (info: RuntimeInfo) => void {
  let hostOptions: HostOptions = new Map();
  const mixed = config === undefined;
  const { maxConcurrentStreams } = (host.staticConfig as StaticConfig).entryPoints[entrypoint]!.http2;
  host.entrypoints.serve(entrypoint, tlsServerFactory({ entrypoint, store, mixed, maxConcurrentStreams, hostOptions: () => hostOptions, log: host.log }));
  host.entrypoints.use(misdirectedRequestCheck(() => hostOptions), { entrypoints: [entrypoint], order: MISDIRECTED_CHECK_ORDER });
  return (info) => {
    // Until the store is made no TLS connection is served; it rebuilds with the option names once it is.
    const made = store.current;
    if (made !== undefined) hostOptions = buildHostOptions(info, entrypoint, config?.options, made.snapshot.optionNames(), host.log, mixed);
  };
}

/** The serial number in decimal, as Go prints a big.Int (Traefik's tls_certs_not_after `serial` label). */
function decimalSerial(pem: string): string {
  return BigInt(`0x${new X509Certificate(pem).serialNumber}`).toString();
}

/** A router asks for TLS on an entrypoint without `http.tls`: time to make the store, before its first handshake. */
function wantsTLS(info: RuntimeInfo): boolean {
  return Object.values(info.routers).some((router) => router.status !== 'disabled' && router.config?.tls !== undefined);
}

export default definePlugin({
  name: 'tls',
  description: 'Terminates TLS on entrypoints with http.tls, and for routers with tls on any entrypoint: certificates by SNI, TLS options, mutual TLS, HTTP/2 through ALPN.',
  schema: Type.Object({}, { additionalProperties: false }),
  config: { entryPoint: { 'http.tls': EntryPointTLSSchema }, dynamic: { key: 'tls', schema: TLSSectionSchema } },
  async setup(_config, host) {
    const entrypoints = entrypointsTLS(host.staticConfig);
    let rebuilders: Array<(info: RuntimeInfo) => void> = [];
    let lastInfo: RuntimeInfo | undefined;
    const report = (certs: readonly LoadedCertificate[]) =>
      host.events.emit('certificates', certs.map((c) => ({ names: c.names, notAfter: Math.floor(Date.parse(c.notAfter) / 1000), serial: decimalSerial(c.cert) })));
    const store = new StoreHolder(host.log, (made) => {
      made.onCertificates = report;
      report([made.snapshot.defaultCertificate]);
      // Option names are known now: routers' hosts get their TLS options.
      if (lastInfo !== undefined) for (const rebuild of rebuilders) rebuild(lastInfo);
    });
    host.configuration.onDynamic((sections) => store.configure(sections));
    // Certificates obtained at run time (ACME) are served by SNI like tls.certificates.
    host.events.on('certificateSupply', (supply) => store.supply(supply));
    host.lifecycle.onStop(() => store.close());
    if ([...entrypoints.values()].some((config) => config !== undefined)) await store.ready();
    rebuilders = [...entrypoints].map(([name, config]) => serveTLS(host, store, name, config));
    // TCP routers with tls (no passthrough) terminate with the same certificates and options.
    host.entrypoints.terminateTLS(tcpTerminator(store, host.log));
    // Option names only change with the dynamic configuration, which is always followed by a reload.
    host.events.on('reload', (info) => {
      lastInfo = info;
      if (store.current === undefined && wantsTLS(info)) void store.ready();
      for (const rebuild of rebuilders) rebuild(info);
    });
  },
});
