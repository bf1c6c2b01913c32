// Which resolver each router uses and for which domains, as Traefik computes them.
import type { RouterInfo, StaticConfig, TCPRouterInfo } from '@wharf/core';
import { ruleHostNames, tcpRuleHostNames } from '@wharf/core/config';
import type { DomainSet } from './resolver.js';

interface TLSFields {
  certResolver?: string;
  domains?: ReadonlyArray<{ main: string; sans?: readonly string[] }>;
}

/** The first wildcard name of the sets, if any (only DNS-01 can prove it). */
export function wildcardOf(sets: readonly DomainSet[]): string | undefined {
  return sets.flatMap((s) => [s.main, ...s.sans]).find((d) => d.startsWith('*.'));
}

/** What one router asks of a resolver, or why it cannot. */
export type RouterRequest = { router: string; resolver: string; sets: DomainSet[] } | { router: string; error: string };

/** The `http.tls` section of an entrypoint, when it has one. */
function entrypointTLS(staticConfig: Readonly<StaticConfig>, entrypoint: string): TLSFields | undefined {
  const http = staticConfig.entryPoints[entrypoint]?.http as { tls?: TLSFields } | undefined;
  return http?.tls;
}

/**
 * The resolver and domain sets of a router: its own `tls.certResolver` and `tls.domains`, else those of its
 * entrypoints' `http.tls`; domains default to every `Host()` of the rule in one certificate (main = the first).
 * Undefined when the router uses no resolver.
 */
export function routerRequest(router: RouterInfo, staticConfig: Readonly<StaticConfig>): RouterRequest | undefined {
  const own = router.config?.tls as TLSFields | undefined;
  const fromEntrypoint = router.entryPoints.map((ep) => entrypointTLS(staticConfig, ep)).find((tls) => tls?.certResolver);
  const source = own?.certResolver ? own : fromEntrypoint;
  if (!source?.certResolver || !router.config) return undefined;
  const domains = own?.domains?.length ? own.domains : source.domains;
  const syntax = router.config.ruleSyntax ?? staticConfig.core.defaultRuleSyntax;
  const rule = router.config.rule;
  return requestFor(router.name, source.certResolver, domains, () => ruleHostNames(rule, syntax), 'Host()');
}

/**
 * The same for a TCP router, as Traefik orders for them: only its own `tls.certResolver` (an entrypoint's `http.tls`
 * is for HTTP routers), `tls.domains`, else every `HostSNI()` name of the rule but `*` in one certificate.
 */
export function tcpRouterRequest(router: TCPRouterInfo, staticConfig: Readonly<StaticConfig>): RouterRequest | undefined {
  const own = router.config?.tls as TLSFields | undefined;
  if (!own?.certResolver || !router.config) return undefined;
  const syntax = router.config.ruleSyntax ?? staticConfig.core.defaultRuleSyntax;
  const rule = router.config.rule;
  return requestFor(router.name, own.certResolver, own.domains, () => tcpRuleHostNames(rule, syntax), 'HostSNI()');
}

/** Domain sets from `domains` when given, else one set of the rule's names (main = the first). */
function requestFor(router: string, resolver: string, domains: TLSFields['domains'], ruleNames: () => string[], matcher: string): RouterRequest {
  let sets: DomainSet[];
  if (domains?.length) sets = domains.map((d) => ({ main: d.main.toLowerCase(), sans: (d.sans ?? []).map((s) => s.toLowerCase()).filter((s) => s !== d.main.toLowerCase()) }));
  else {
    const hosts = [...new Set(ruleNames())];
    if (hosts.length === 0) {
      return { router, error: `tls.certResolver '${resolver}': the rule names no ${matcher} and tls.domains is empty, so there is no domain to order a certificate for; add tls.domains` };
    }
    sets = [{ main: hosts[0]!, sans: hosts.slice(1) }];
  }
  return { router, resolver, sets };
}
