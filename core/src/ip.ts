// Client-IP helpers for plugins that follow Traefik's `ipStrategy` and IP lists (rateLimit, ipAllowList, …):
// here once so every plugin reads X-Forwarded-For and matches CIDRs the same way (Traefik's pkg/ip).
import { BlockList, isIP, isIPv6 } from 'node:net';
import type { WharfContext } from './context.js';

/** Parses an address or a CIDR range; the error names the field and the entry. */
export function parseIPRange(entry: string, field: string): { address: string; prefix?: number; family: 'ipv4' | 'ipv6' } {
  const [address = '', bits, extra] = entry.trim().split('/');
  const version = isIP(address);
  const prefix = bits === undefined ? undefined : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
  const max = version === 6 ? 128 : 32;
  if (version === 0 || extra !== undefined || (prefix !== undefined && !(prefix >= 0 && prefix <= max))) {
    throw new Error(`${field}: '${entry}' is not an IP address or CIDR range`);
  }
  return { address, prefix, family: version === 6 ? 'ipv6' : 'ipv4' };
}

/**
 * A set of addresses and CIDR ranges, as Traefik's ip.Checker: the returned function tells whether an address
 * is in it (IPv4-mapped IPv6 matches its IPv4 form; `host:port` is accepted; anything else is not contained).
 * Throws, naming the field and the entry, when an entry does not parse.
 */
export function ipMatcher(entries: readonly string[], field: string): (ip: string) => boolean {
  const list = new BlockList();
  for (const entry of entries) {
    const { address, prefix, family } = parseIPRange(entry, field);
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, prefix, family);
  }
  return function contains(ip) {
    const host = withoutPort(ip);
    const family = isIP(host);
    return family !== 0 && list.check(host, family === 6 ? 'ipv6' : 'ipv4');
  };
}

/** `1.2.3.4:80` → `1.2.3.4`, `[::1]:80` → `::1` (Traefik checks the host of such entries); else unchanged. */
function withoutPort(ip: string): string {
  if (isIP(ip) !== 0) return ip;
  const bracketed = /^\[([^\]]+)\]:\d+$/.exec(ip);
  if (bracketed) return bracketed[1]!;
  const v4 = /^([\d.]+):\d+$/.exec(ip);
  return v4 ? v4[1]! : ip;
}

/** Reads X-Forwarded-For (the raw header value); undefined when the strategy finds no entry. */
export type ForwardedPicker = (header: string | string[] | undefined) => string | undefined;

/**
 * Traefik's X-Forwarded-For strategies: `depth` takes the depth-th entry counted from the right (and wins over
 * excludedIPs); `excludedIPs` walks from the right and takes the first entry not in the list. The entry is
 * returned as written (trimmed), valid IP or not, as Traefik does; the caller decides what a non-IP means.
 * Undefined when neither is configured. Throws naming `${field}.excludedIPs` for an entry that does not parse.
 */
export function forwardedIPPicker(strategy: { depth?: number; excludedIPs?: readonly string[] }, field: string): ForwardedPicker | undefined {
  const depth = strategy.depth ?? 0;
  if (depth > 0) {
    return function byDepth(header) {
      const list = forwardedList(header);
      const ip = list.length >= depth ? list[list.length - depth]!.trim() : '';
      return ip === '' ? undefined : ip;
    };
  }
  const excluded = strategy.excludedIPs ?? [];
  if (excluded.length === 0) return undefined;
  const isExcluded = ipMatcher(excluded, `${field}.excludedIPs`);
  return function byExclusion(header) {
    const list = forwardedList(header);
    for (let i = list.length - 1; i >= 0; i--) {
      const ip = list[i]!.trim();
      if (ip !== '' && !isExcluded(ip)) return ip;
    }
    return undefined;
  };
}

/** Traefik's `sourceCriterion` as plugins decode it (rateLimit, inFlightReq). */
export interface SourceCriterionConfig {
  ipStrategy?: { depth?: number; excludedIPs?: readonly string[]; ipv6Subnet?: number };
  requestHeaderName?: string;
  requestHost?: boolean;
}

/** What a schema cannot check: at most one criterion, and excludedIPs that parse. Messages name the fields. */
export function checkSourceCriterion(criterion: SourceCriterionConfig | undefined): void {
  const set = (['ipStrategy', 'requestHeaderName', 'requestHost'] as const).filter((k) => criterion?.[k] !== undefined && criterion[k] !== false);
  if (set.length > 1) {
    throw new Error(`sourceCriterion: ${set.map((k) => `sourceCriterion.${k}`).join(' and ')} are mutually exclusive; set only one`);
  }
  ipMatcher(criterion?.ipStrategy?.excludedIPs ?? [], 'sourceCriterion.ipStrategy.excludedIPs');
}

/**
 * The client-IP key of an ipStrategy (`ip:<address>`), built once per generation: a trusted peer's X-Forwarded-For
 * picked by depth or excludedIPs, else — or when that names no address — the TCP peer; IPv6 masked to ipv6Subnet.
 */
export function clientIPKey(strategy: SourceCriterionConfig['ipStrategy']): (ctx: WharfContext) => string {
  const pick = forwardedIPPicker(strategy ?? {}, 'sourceCriterion.ipStrategy');
  const subnet = strategy?.ipv6Subnet;
  return function ipSource(ctx) {
    // Only a trusted peer's X-Forwarded-For counts; otherwise any client could choose its own key.
    const forwarded = pick && ctx.wharf.trustForwarded ? pick(ctx.req.headers['x-forwarded-for']) : undefined;
    const ip = forwarded !== undefined && isIP(forwarded) !== 0 ? forwarded : ctx.wharf.clientIP;
    return `ip:${subnet !== undefined ? maskIPv6(ip, subnet) : ip}`;
  };
}

/** Repeated X-Forwarded-For fields read as one list, as Go's Header.Get would not: Node joins them with ", " anyway. */
function forwardedList(header: string | string[] | undefined): string[] {
  if (header === undefined) return [];
  return (Array.isArray(header) ? header.join(',') : header).split(',');
}

/** The first address of the IPv6 subnet: `2001:db8:1:2:3:4:5:6` with 64 → `2001:db8:1:2::`; other input unchanged. */
export function maskIPv6(ip: string, prefix: number): string {
  if (!isIPv6(ip)) return ip;
  const groups = expandIPv6(ip);
  const out: string[] = [];
  for (let i = 0; i < 8; i++) {
    const keep = Math.max(0, Math.min(16, prefix - i * 16));
    const mask = keep === 0 ? 0 : (0xffff << (16 - keep)) & 0xffff;
    out.push((groups[i]! & mask).toString(16));
  }
  return compressIPv6(out);
}

function expandIPv6(ip: string): number[] {
  const zone = ip.indexOf('%');
  let text = zone === -1 ? ip : ip.slice(0, zone);
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = text.slice(0, v4.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : new Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((g) => parseInt(g, 16));
}

function compressIPv6(groups: string[]): string {
  // Longest run of zero groups becomes '::' (RFC 5952 §4.2.3).
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestStart === -1) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLength).join(':')}`;
}
