// acme: certificate resolvers (`certificatesResolvers.<name>.acme`) that obtain and renew certificates for the
// routers naming them, served live by the tls plugin; HTTP-01 before routing, TLS-ALPN-01 in the handshake.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { checkServerIdentity, rootCertificates } from 'node:tls';
import acme from 'acme-client';
import { definePlugin, messageOf, Type, type Next, type PluginHost, type RuntimeInfo, type SharedState, type WharfContext } from '@wharf/core';
import { redisConnectionDefaults } from '@wharf/redis';
import { dnsProvider } from './dns.js';
import { routerRequest, tcpRouterRequest, wildcardOf, type RouterRequest } from './domains.js';
import { Resolver, setKey, type DomainSet } from './resolver.js';
import { checkResolver, isRedisUrl, REDIS_STORAGE, ResolversSchema, type AcmeConfig, type ResolversConfig } from './schema.js';
import { FileStorage, FileStore, RedisStore, type AcmeStore } from './store.js';

export { ResolversSchema, AcmeSchema, checkResolver, type AcmeConfig } from './schema.js';
export { renewDurations, type DomainSet } from './resolver.js';
export { routerRequest, tcpRouterRequest } from './domains.js';
export { dnsProvider, registerDnsProvider, type DnsProvider, type DnsProviderFactory, type DnsRecord } from './dns.js';

const CHALLENGE_PREFIX = '/.well-known/acme-challenge/';
// After the access log and metrics hooks (so validation requests are logged and counted), before ping (100),
// entrypoint redirections (150) and routing.
const HTTP_CHALLENGE_ORDER = -50;

/** The middleware (per-router) schema: the plugin has none. */
export const schema = Type.Object({}, { additionalProperties: false });

/**
 * TLS trust and timeout per CA server (caCertificates, caSystemCertPool, caServerName, clientTimeout): acme-client
 * shares one HTTP client, so its requests get the agent of the resolver whose CA they go to.
 */
const agents = new Map<string, { agent: https.Agent; timeout: number }>();
let interceptorInstalled = false;

function trustCAServer(config: AcmeConfig, where: string): void {
  const origin = new URL(config.caServer).origin;
  let ca: string[] | undefined;
  if (config.caCertificates?.length) {
    ca = config.caCertificates.map((file, i) => {
      try {
        return readFileSync(file, 'utf8');
      } catch (err) {
        throw new Error(`${where}.acme.caCertificates[${i}]: cannot read ${file}: ${messageOf(err)}`, { cause: err });
      }
    });
    if (config.caSystemCertPool) ca.push(...rootCertificates);
  }
  const servername = config.caServerName;
  agents.set(origin, {
    agent: new https.Agent({ keepAlive: true, ...(ca ? { ca } : {}), ...(servername ? { servername, checkServerIdentity: (_host: string, cert: Parameters<typeof checkServerIdentity>[1]) => checkServerIdentity(servername, cert) } : {}) }),
    timeout: config.clientTimeout,
  });
  if (interceptorInstalled) return;
  interceptorInstalled = true;
  boundLibraryRetries();
  acme.axios.interceptors.request.use((request) => {
    const match = request.url ? agents.get(new URL(request.url).origin) : undefined;
    if (match) {
      request.httpsAgent = match.agent;
      request.timeout = match.timeout;
    }
    return request;
  });
}

// acme-client retries a failed request (no answer, 429, 5xx) 5 times, waiting 5 s × attempt: 75 s before an
// unreachable CA is reported. The resolver retries whole orders on its own schedule (1 min doubling to 1 h), so the
// library only needs to ride out a blip: a 429/5xx is retried twice, 1 s × attempt (3 s; a Retry-After from the CA is
// still obeyed), and a request without an answer fails at once (see unanswered).
const LIBRARY_RETRIES = { retryMaxAttempts: 2, retryDefaultDelay: 1 };

/**
 * Bounds acme-client's retries, and lets a request that got no answer (connection refused, timeout) fail at once with
 * its own message: acme-client 5.4 reads `response.config` of such an error once it stops retrying and throws
 * "Cannot read properties of undefined (reading 'config')" instead, hiding why the CA could not be reached. Its
 * handler passes through errors without `config`, so ours runs first and hands it one.
 */
function boundLibraryRetries(): void {
  const defaults = acme.axios.defaults as unknown as { acmeSettings: Record<string, number> };
  Object.assign(defaults.acmeSettings, LIBRARY_RETRIES);
  acme.axios.interceptors.response.use(undefined, unanswered);
  const handlers = (acme.axios.interceptors.response as unknown as { handlers: unknown[] }).handlers;
  handlers.unshift(handlers.pop());
}

function unanswered(error: { config?: { method?: string; url?: string }; response?: unknown; message?: string; code?: string }): Promise<never> {
  if (error.response !== undefined || !error.config) return Promise.reject(error);
  const { method = 'get', url } = error.config;
  return Promise.reject(Object.assign(new Error(`${method.toUpperCase()} ${url}: ${error.message ?? error.code}`, { cause: error }), { code: error.code }));
}

/** The DNS provider of a resolver; errors name the resolver's field. */
function namedDnsProvider(resolver: string, provider: string) {
  try {
    return dnsProvider(provider);
  } catch (err) {
    throw new Error(`certificatesResolvers.${resolver}.acme.${messageOf(err)}`, { cause: err });
  }
}

/** Resolvers by storage: resolvers naming one acme.json share one file; `redis` connects with the redis section (or its defaults). */
function storeFor(config: AcmeConfig, resolver: string, files: Map<string, FileStorage>, shared: SharedState): AcmeStore {
  const { storage } = config;
  if (isRedisUrl(storage)) return new RedisStore(storage, resolver);
  if (storage === REDIS_STORAGE) return new RedisStore(config.redis ?? redisConnectionDefaults(), resolver, `certificatesResolvers.${resolver}.acme.redis`);
  let file = files.get(storage);
  if (!file) files.set(storage, (file = new FileStorage(storage)));
  file.read(); // a broken file stops the start, naming it
  return new FileStore(file, resolver, shared);
}

/** Answers `/.well-known/acme-challenge/<token>` from every resolver's store, before routing. */
function httpChallenge(resolvers: readonly Resolver[]) {
  return async function acmeHttpChallenge(ctx: WharfContext, next: Next): Promise<void> {
    const path = ctx.path;
    if (!path.startsWith(CHALLENGE_PREFIX)) return next();
    const token = path.slice(CHALLENGE_PREFIX.length);
    for (const resolver of resolvers) {
      const answer = await resolver.httpToken(token).catch(() => undefined);
      if (answer !== undefined) {
        ctx.status = 200;
        ctx.type = 'text/plain';
        ctx.body = answer;
        return;
      }
    }
    return next();
  };
}

/** A router of either kind, as configuration.warnRouter names it. */
interface RouterRef {
  name: string;
  kind: 'http' | 'tcp';
}

/** Routers by resolver and domain set, so an order's failure is shown on the routers that need it. */
type RoutersBySet = Map<string, Map<string, RouterRef[]>>;

/** What every enabled router (HTTP, then TCP) asks of a resolver. */
function routerRequests(host: PluginHost, info: RuntimeInfo): Array<{ ref: RouterRef; request: RouterRequest }> {
  const requests: Array<{ ref: RouterRef; request: RouterRequest }> = [];
  for (const router of Object.values(info.routers)) {
    const request = router.status === 'disabled' ? undefined : routerRequest(router, host.staticConfig);
    if (request) requests.push({ ref: { name: router.name, kind: 'http' }, request });
  }
  for (const router of Object.values(info.tcp?.routers ?? {})) {
    const request = router.status === 'disabled' ? undefined : tcpRouterRequest(router, host.staticConfig);
    if (request) requests.push({ ref: { name: router.name, kind: 'tcp' }, request });
  }
  return requests;
}

/**
 * Hands every resolver's domain sets to it; routers naming an unknown resolver get an error (API + log).
 * Returns which routers need each set.
 */
function dispatchRouters(host: PluginHost, resolvers: ReadonlyMap<string, Resolver>, info: RuntimeInfo, routersBySet: RoutersBySet): void {
  const wanted = new Map<string, DomainSet[]>([...resolvers.keys()].map((name) => [name, []]));
  routersBySet.clear();
  for (const { ref, request } of routerRequests(host, info)) {
    const warn = (message: string) => host.configuration.warnRouter(ref.name, message, ref.kind);
    if ('error' in request) warn(request.error);
    else if (!resolvers.has(request.resolver)) {
      const known = [...resolvers.keys()];
      warn(`tls.certResolver: no certificate resolver '${request.resolver}' (defined: ${known.length ? known.join(', ') : 'none'}); the default certificate is served`);
    } else if (wildcardOf(request.sets) && !resolvers.get(request.resolver)!.wildcards) {
      warn(`tls.domains: wildcard ${wildcardOf(request.sets)} needs the DNS-01 challenge; certificate resolver '${request.resolver}' has no dnsChallenge, so the default certificate is served`);
    } else {
      const resolver = resolvers.get(request.resolver)!;
      // A failed order is told once, to the generation live then; later generations get it from here.
      for (const set of request.sets) {
        const problem = resolver.problemFor(set);
        if (problem) warn(problem);
      }
      wanted.get(request.resolver)!.push(...request.sets);
      const bySet = routersBySet.get(request.resolver) ?? new Map<string, RouterRef[]>();
      routersBySet.set(request.resolver, bySet);
      for (const set of request.sets) bySet.set(setKey(set), [...(bySet.get(setKey(set)) ?? []), ref]);
    }
  }
  for (const [name, sets] of wanted) resolvers.get(name)!.want(sets);
}

export default definePlugin({
  name: 'acme',
  description: 'Certificate resolvers: obtains and renews ACME (Let\'s Encrypt) certificates for HTTP and TCP routers with tls.certResolver.',
  schema,
  config: { static: { key: 'certificatesResolvers', schema: ResolversSchema } },
  async setup(config, host) {
    const resolversConfig = (config ?? {}) as ResolversConfig;
    const entryPoints = Object.keys(host.staticConfig.entryPoints);
    const files = new Map<string, FileStorage>();
    const resolvers = new Map<string, Resolver>();
    const routersBySet: RoutersBySet = new Map();
    const failed = (resolver: string) => (set: DomainSet, message: string) => {
      const routers = routersBySet.get(resolver)?.get(setKey(set)) ?? [];
      if (routers.length === 0) host.log.error({ resolver, domains: [set.main, ...set.sans] }, message);
      for (const router of routers) host.configuration.warnRouter(router.name, message, router.kind);
    };
    const announce = () => {
      for (const resolver of resolvers.values()) {
        host.events.emit('certificateSupply', { source: `acme.${resolver.name}`, certificates: resolver.certificates(), challenges: resolver.challenges() });
        host.events.emit('certificateResolver', resolver.info());
      }
    };
    for (const [name, resolverConfig] of Object.entries(resolversConfig)) {
      const acmeConfig = checkResolver(name, resolverConfig, entryPoints);
      trustCAServer(acmeConfig, `certificatesResolvers.${name}`);
      const dns = acmeConfig.dnsChallenge ? namedDnsProvider(name, acmeConfig.dnsChallenge.provider) : undefined;
      const store = storeFor(acmeConfig, name, files, host.shared);
      resolvers.set(name, new Resolver({ name, config: acmeConfig, store, log: host.log, changed: announce, failed: failed(name), ...(dns ? { dns } : {}) }));
    }
    for (const resolver of resolvers.values()) await resolver.start();
    host.lifecycle.onStop(async () => {
      for (const resolver of resolvers.values()) {
        resolver.stop();
        await resolver.store.close();
      }
    });
    const challengeEntrypoints = [...new Set(Object.values(resolversConfig).flatMap((r) => (r.acme?.httpChallenge ? [r.acme.httpChallenge.entryPoint] : [])))];
    if (challengeEntrypoints.length > 0) host.entrypoints.use(httpChallenge([...resolvers.values()]), { entrypoints: challengeEntrypoints, order: HTTP_CHALLENGE_ORDER });
    // The tls plugin may be set up after this one: announce again once every entrypoint is bound.
    host.events.on('listening', announce);
    host.events.on('reload', (info) => dispatchRouters(host, resolvers, info, routersBySet));
  },
});
