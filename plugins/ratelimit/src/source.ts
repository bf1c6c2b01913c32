// Which bucket a request draws from: client IP (optionally from a trusted X-Forwarded-For), a header, or the host.
import { createHash } from 'node:crypto';
import { BlockList, isIP, isIPv6 } from 'node:net';
import type { WharfContext } from '@wharf/core';
import type { RateLimitConfig } from './schema.js';

export type SourceOf = (ctx: WharfContext) => string;

// Longer keys (a header can hold kilobytes) are hashed so one client cannot make a bucket key huge.
const MAX_KEY_LENGTH = 200;

/** Checks what the schema cannot: one criterion at most, addresses that parse. Messages name the fields. */
export function checkSourceCriterion(options: RateLimitConfig): void {
  const criterion = options.sourceCriterion ?? {};
  const set = (['ipStrategy', 'requestHeaderName', 'requestHost'] as const).filter((k) => criterion[k] !== undefined && criterion[k] !== false);
  if (set.length > 1) {
    throw new Error(`sourceCriterion: ${set.map((k) => `sourceCriterion.${k}`).join(' and ')} are mutually exclusive; set only one`);
  }
  if (options.missingKey !== undefined && criterion.requestHeaderName === undefined) {
    throw new Error('missingKey: only applies with sourceCriterion.requestHeaderName');
  }
  for (const entry of criterion.ipStrategy?.excludedIPs ?? []) parseRange(entry, 'sourceCriterion.ipStrategy.excludedIPs');
}

/** Builds the per-request key function once, at configuration time. */
export function sourceOf(options: RateLimitConfig): SourceOf {
  const criterion = options.sourceCriterion ?? {};
  if (criterion.requestHeaderName !== undefined) {
    const name = criterion.requestHeaderName.toLowerCase();
    const shared = options.missingKey === 'shared';
    return function headerSource(ctx) {
      const value = ctx.req.headers[name];
      const text = Array.isArray(value) ? value.join(',') : value;
      if (text !== undefined && text !== '') return bounded(`hdr:${text}`);
      return shared ? 'hdr-missing' : `ip:${ctx.wharf.clientIP}`;
    };
  }
  if (criterion.requestHost) {
    return function hostSource(ctx) {
      // Koa's host: the Host header, or :authority on HTTP/2.
      return bounded(`host:${ctx.host.toLowerCase()}`);
    };
  }
  const strategy = criterion.ipStrategy;
  const pick = forwardedPicker(strategy?.depth ?? 0, strategy?.excludedIPs ?? []);
  const subnet = strategy?.ipv6Subnet;
  return function ipSource(ctx) {
    // Only a trusted peer's X-Forwarded-For counts; otherwise any client could choose its own bucket.
    const forwarded = pick && ctx.wharf.trustForwarded ? pick(ctx.req.headers['x-forwarded-for']) : undefined;
    const ip = forwarded ?? ctx.wharf.clientIP;
    return `ip:${subnet !== undefined ? maskIPv6(ip, subnet) : ip}`;
  };
}

type Picker = (header: string | string[] | undefined) => string | undefined;

/** Traefik's depth and excludedIPs strategies over X-Forwarded-For; undefined when neither is configured. */
function forwardedPicker(depth: number, excluded: readonly string[]): Picker | undefined {
  if (depth > 0) {
    return (header) => {
      const list = forwardedList(header);
      const ip = list[list.length - depth];
      return ip !== undefined && isIP(ip) ? ip : undefined;
    };
  }
  if (excluded.length === 0) return undefined;
  const blocked = new BlockList();
  for (const entry of excluded) {
    const { address, prefix, family } = parseRange(entry, 'excludedIPs');
    if (prefix === undefined) blocked.addAddress(address, family);
    else blocked.addSubnet(address, prefix, family);
  }
  return (header) => {
    const list = forwardedList(header);
    for (let i = list.length - 1; i >= 0; i--) {
      const ip = list[i]!;
      const family = isIP(ip);
      if (family !== 0 && !blocked.check(ip, family === 6 ? 'ipv6' : 'ipv4')) return ip;
    }
    return undefined;
  };
}

function forwardedList(header: string | string[] | undefined): string[] {
  if (header === undefined) return [];
  const text = Array.isArray(header) ? header.join(',') : header;
  return text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

function parseRange(entry: string, field: string): { address: string; prefix?: number; family: 'ipv4' | 'ipv6' } {
  const [address = '', bits] = entry.trim().split('/');
  const version = isIP(address);
  const prefix = bits === undefined ? undefined : Number(bits);
  const max = version === 6 ? 128 : 32;
  if (version === 0 || (prefix !== undefined && !(Number.isInteger(prefix) && prefix >= 0 && prefix <= max))) {
    throw new Error(`${field}: '${entry}' is not an IP address or CIDR range`);
  }
  return { address, prefix, family: version === 6 ? 'ipv6' : 'ipv4' };
}

/** `2001:db8:1:2:3:4:5:6` with 64 → `2001:db8:1:2::`; IPv4 addresses are returned unchanged. */
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

function bounded(key: string): string {
  if (key.length <= MAX_KEY_LENGTH) return key;
  return `sha256:${createHash('sha256').update(key).digest('base64url')}`;
}
