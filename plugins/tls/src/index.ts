// tls: TLS termination for entrypoints with `http.tls` — SNI certificates, TLS options, mTLS, HTTP/2 via ALPN, live reload.
import { definePlugin, Type, type PluginHost, type RuntimeInfo, type StaticConfig } from '@wharf/core';
import { isTLSEntryPoint } from '@wharf/core/config';
import { generateDefaultCertificate, type LoadedCertificate } from './certificates.js';
import { buildHostOptions, misdirectedRequestCheck, type HostOptions } from './hosts.js';
import { EntryPointTLSSchema, TLSSectionSchema, type EntryPointTLSConfig } from './schema.js';
import { tlsServerFactory } from './server.js';
import { TLSStore } from './store.js';

export type { TLSSection, TLSOptionsConfig, EntryPointTLSConfig } from './schema.js';

// Before routing, but after hooks that must see every request (access log, metrics) wrap the chain.
const MISDIRECTED_CHECK_ORDER = -10;

/** `http.tls` of every entrypoint that has it. */
function tlsEntrypoints(staticConfig: PluginHost['staticConfig']): Map<string, EntryPointTLSConfig> {
  const found = new Map<string, EntryPointTLSConfig>();
  for (const [name, ep] of Object.entries((staticConfig as StaticConfig).entryPoints)) {
    if (isTLSEntryPoint(ep)) found.set(name, (ep.http as unknown as { tls: EntryPointTLSConfig }).tls);
  }
  return found;
}

/** Wires one TLS entrypoint: its server, its host → options map (rebuilt on each reload) and the 421 check. */
function serveTLS(host: PluginHost, store: TLSStore, entrypoint: string, config: EntryPointTLSConfig): (info: RuntimeInfo) => void {
  let hostOptions: HostOptions = new Map();
  host.entrypoints.serve(entrypoint, tlsServerFactory({ entrypoint, store, hostOptions: () => hostOptions, log: host.log }));
  host.entrypoints.use(misdirectedRequestCheck(() => hostOptions), { entrypoints: [entrypoint], order: MISDIRECTED_CHECK_ORDER });
  return (info) => {
    hostOptions = buildHostOptions(info, entrypoint, config.options, store.snapshot.optionNames(), host.log);
  };
}

export default definePlugin({
  name: 'tls',
  description: 'Terminates TLS on entrypoints with http.tls: certificates by SNI, TLS options, mutual TLS, HTTP/2 through ALPN.',
  schema: Type.Object({}, { additionalProperties: false }),
  config: { entryPoint: { 'http.tls': EntryPointTLSSchema }, dynamic: { key: 'tls', schema: TLSSectionSchema } },
  async setup(_config, host) {
    const entrypoints = tlsEntrypoints(host.staticConfig);
    if (entrypoints.size === 0) {
      host.configuration.onDynamic(() => {}); // nothing to terminate; the section is still accepted
      return;
    }
    const store = new TLSStore(host.log, await generateDefaultCertificate());
    const report = (certs: readonly LoadedCertificate[]) =>
      host.events.emit('certificates', certs.map((c) => ({ names: c.names, notAfter: Math.floor(Date.parse(c.notAfter) / 1000) })));
    store.onCertificates = report;
    report([store.snapshot.defaultCertificate]);
    host.configuration.onDynamic((sections) => store.configure(sections));
    // Certificates obtained at run time (ACME) are served by SNI like tls.certificates.
    host.events.on('certificateSupply', (supply) => store.supply(supply));
    host.lifecycle.onStop(() => store.close());
    const rebuilders = [...entrypoints].map(([name, config]) => serveTLS(host, store, name, config));
    // Option names only change with the dynamic configuration, which is always followed by a reload.
    host.events.on('reload', (info) => rebuilders.forEach((rebuild) => rebuild(info)));
  },
});
