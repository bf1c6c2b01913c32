// Which request, origin and downstream headers reach the log (keep, drop, redact), with credentials kept out.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { Fields } from './format.js';
import type { HeaderModeValue } from './schema.js';
import { canonicalHeaderKey } from '@wharf/gourl';
import { wireText } from './values.js';

export const REDACTED = 'REDACTED';

/**
 * Credentials: a `defaultMode: keep` must not leak them, so they are written only when named, and then
 * only as REDACTED (issue 5: "never written unless explicitly kept, and then redacted by default").
 */
const CREDENTIALS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);

// Distinct header names are client-controlled: stop memoising past this many so they cannot grow memory.
const MAX_CACHED_NAMES = 1024;

interface Decision {
  /** `request_User-Agent` minus the prefix: Go's canonical form, as Traefik writes it. */
  canonical: string;
  mode: HeaderModeValue;
}

export class HeaderPolicy {
  /** False when no header can reach the log: the per-request header work is skipped entirely. */
  readonly active: boolean;
  private readonly names: Map<string, HeaderModeValue>;
  private readonly cache = new Map<string, Decision>();

  constructor(private readonly defaultMode: HeaderModeValue, names: Record<string, HeaderModeValue>) {
    this.names = new Map(Object.entries(names).map(([name, mode]) => [name.toLowerCase(), mode]));
    this.active = defaultMode !== 'drop' || [...this.names.values()].some((m) => m !== 'drop');
  }

  /** The mode for a header, by its lower-case name. */
  modeOf(lowerName: string): HeaderModeValue {
    const named = this.names.get(lowerName);
    if (!CREDENTIALS.has(lowerName)) return named ?? this.defaultMode;
    return named === undefined || named === 'drop' ? 'drop' : 'redact';
  }

  /**
   * Adds `<prefix><Canonical-Name>` fields for the headers this policy lets through. `skip` is a header
   * Go keeps out of the header map (Host is RequestAddr), so Traefik never shows it as a header.
   */
  addTo(fields: Fields, prefix: string, headers: IncomingHttpHeaders | OutgoingHttpHeaders | undefined, skip?: string): void {
    if (headers === undefined) return;
    for (const name in headers) {
      const raw = headers[name];
      if (raw === undefined || name === skip) continue;
      const decision = this.decide(name);
      if (decision.mode === 'drop') continue;
      fields[prefix + decision.canonical] = decision.mode === 'redact' ? REDACTED : wireText(Array.isArray(raw) ? raw.join(',') : String(raw));
    }
  }

  /** Like addTo for a few known lower-case names (the CLF formats print only Referer and User-Agent). */
  addNamed(fields: Fields, prefix: string, headers: IncomingHttpHeaders, names: readonly string[]): void {
    for (const name of names) {
      const raw = headers[name];
      if (raw === undefined) continue;
      const decision = this.decide(name);
      if (decision.mode !== 'drop') fields[prefix + decision.canonical] = decision.mode === 'redact' ? REDACTED : wireText(String(raw));
    }
  }

  private decide(name: string): Decision {
    const cached = this.cache.get(name);
    if (cached !== undefined) return cached;
    const lower = name.toLowerCase();
    const decision = { canonical: canonicalHeaderKey(lower), mode: this.modeOf(lower) };
    if (this.cache.size < MAX_CACHED_NAMES) this.cache.set(name, decision);
    return decision;
  }
}
