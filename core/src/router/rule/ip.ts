// IPv4/IPv6 address and CIDR parsing for the ClientIP matcher, with Go's net.ParseIP / ParseCIDR semantics.

/** Every address is held as 16 bytes; IPv4 in its IPv4-mapped IPv6 form so both families share one comparison. */
export interface ParsedIP {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
}

/** An address range: a CIDR, or a single address as a /32 or /128. */
export interface IPRange {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
  /** Number of leading bits of `bytes` that must match, counted over all 16 bytes. */
  readonly prefixBits: number;
}

const MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

/**
 * Parse an IPv4 or IPv6 literal; an IPv4-mapped IPv6 address counts as IPv4 (Go's IP.To4 does the same),
 * so `::ffff:10.0.0.1` and `10.0.0.1` are one client.
 */
export function parseIP(text: string): ParsedIP | undefined {
  const v4 = parseIPv4(text);
  if (v4) return { family: 4, bytes: v4 };
  const v6 = parseIPv6(text);
  if (!v6) return undefined;
  return { family: isMapped(v6) ? 4 : 6, bytes: v6 };
}

/**
 * Parse `ip` or `ip/bits`. A CIDR's family follows its syntax, as in Go: `::ffff:0:0/96` is an IPv6
 * network and does not contain IPv4 clients.
 */
export function parseIPRange(text: string): IPRange | undefined {
  const slash = text.indexOf('/');
  if (slash === -1) {
    const ip = parseIP(text);
    return ip && { family: ip.family, bytes: ip.bytes, prefixBits: 128 };
  }
  const bits = parsePrefixLength(text.slice(slash + 1));
  const address = text.slice(0, slash);
  const v4 = parseIPv4(address);
  if (v4) return bits !== undefined && bits <= 32 ? { family: 4, bytes: v4, prefixBits: 96 + bits } : undefined;
  const v6 = parseIPv6(address);
  return v6 && bits !== undefined && bits <= 128 ? { family: 6, bytes: v6, prefixBits: bits } : undefined;
}

export function rangeContains(range: IPRange, ip: ParsedIP): boolean {
  if (range.family !== ip.family) return false;
  const fullBytes = range.prefixBits >> 3;
  for (let i = 0; i < fullBytes; i++) {
    if (range.bytes[i] !== ip.bytes[i]) return false;
  }
  const restBits = range.prefixBits & 7;
  if (restBits === 0) return true;
  const mask = (0xff << (8 - restBits)) & 0xff;
  return (range.bytes[fullBytes]! & mask) === (ip.bytes[fullBytes]! & mask);
}

/** Peer addresses may carry a zone (`fe80::1%eth0`); the zone does not take part in matching. */
export function parseClientIP(text: string): ParsedIP | undefined {
  const zone = text.indexOf('%');
  return parseIP(zone === -1 ? text : text.slice(0, zone));
}

function parsePrefixLength(text: string): number | undefined {
  return /^[0-9]{1,3}$/.test(text) ? Number(text) : undefined;
}

function isMapped(bytes: Uint8Array): boolean {
  return MAPPED_PREFIX.every((b, i) => bytes[i] === b);
}

/** Dotted decimal only, no leading zeros (Go rejects them since 1.17 because other parsers read them as octal). */
function parseIPv4(text: string): Uint8Array | undefined {
  const octets = parseDottedQuad(text);
  if (!octets) return undefined;
  const bytes = new Uint8Array(16);
  bytes.set(MAPPED_PREFIX);
  bytes.set(octets, 12);
  return bytes;
}

function parseDottedQuad(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const octets: number[] = [];
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    octets.push(value);
  }
  return octets;
}

function parseIPv6(text: string): Uint8Array | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = parseGroups(halves[0]!, halves.length === 1);
  const tail = halves.length === 2 ? parseGroups(halves[1]!, true) : [];
  if (!head || !tail) return undefined;
  const total = head.length + tail.length;
  // '::' must stand for at least one zero group; without it exactly eight groups are needed.
  if (halves.length === 1 ? total !== 8 : total > 7) return undefined;
  const groups = [...head, ...new Array<number>(8 - total).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    bytes[i * 2] = group >> 8;
    bytes[i * 2 + 1] = group & 0xff;
  });
  return bytes;
}

/** Colon-separated hex groups; the last one may be an embedded dotted IPv4 address worth two groups. */
function parseGroups(text: string, mayEndWithIPv4: boolean): number[] | undefined {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (mayEndWithIPv4 && i === parts.length - 1 && part.includes('.')) {
      const octets = parseDottedQuad(part);
      if (!octets) return undefined;
      groups.push((octets[0]! << 8) | octets[1]!, (octets[2]! << 8) | octets[3]!);
      continue;
    }
    if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return undefined;
    groups.push(parseInt(part, 16));
  }
  return groups;
}
