// Which resolver each router uses and for which domains, as Traefik computes them.
import type { RouterInfo, StaticConfig } from '@wharf/core';
import { ruleHostNames } from '@wharf/core/config';
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
  let sets: DomainSet[];
  if (domains?.length) sets = domains.map((d) => ({ main: d.main.toLowerCase(), sans: (d.sans ?? []).map((s) => s.toLowerCase()).filter((s) => s !== d.main.toLowerCase()) }));
  else {
    const syntax = router.config.ruleSyntax ?? staticConfig.core.defaultRuleSyntax;
    const hosts = [...new Set(ruleHostNames(router.config.rule, syntax))];
    if (hosts.length === 0) {
      return { router: router.name, error: `tls.certResolver '${source.certResolver}': the rule names no Host() and tls.domains is empty, so there is no domain to order a certificate for; add tls.domains` };
    }
    sets = [{ main: hosts[0]!, sans: hosts.slice(1) }];
  }
  return { router: router.name, resolver: source.certResolver, sets };
}
