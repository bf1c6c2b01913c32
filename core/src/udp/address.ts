// Addresses of the UDP side: which entrypoints are UDP ones (`:53/udp`), where they bind, and server addresses.
import { isIP } from 'node:net';
import type { EntryPointConfig } from '../config/static.js';
import { parseAddress, type ListenAddress } from '../entrypoint/address.js';
import { WharfError } from '../errors.js';

const PROTOCOL = /\/(tcp|udp)$/i;

/** Traefik's GetProtocol: the suffix after `/`, `tcp` when there is none. */
export function entryPointProtocol(address: string): 'tcp' | 'udp' {
  return PROTOCOL.exec(address.trim())?.[1]?.toLowerCase() === 'udp' ? 'udp' : 'tcp';
}

export function isUDPEntryPoint(config: Pick<EntryPointConfig, 'address'>): boolean {
  return entryPointProtocol(config.address) === 'udp';
}

/** Where a UDP entrypoint binds: the address without `/udp`, in the TCP entrypoints' grammar. */
export function udpListenAddress(address: string, entrypoint: string): ListenAddress {
  return parseAddress(address.trim().replace(PROTOCOL, ''), entrypoint);
}

/** A UDP server: an IP (family 4 or 6) or a host name resolved when a session opens (family 0). */
export interface UDPTarget {
  host: string;
  port: number;
  family: 0 | 4 | 6;
  /** As configured, for logs and the runtime info. */
  address: string;
}

/** `10.0.0.5:53`, `[fd00::5]:53`, `dns.internal:53` → a target; throws what is expected, naming `field`. */
export function parseServerAddress(address: string, field: string): UDPTarget {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(address.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) {
    throw new WharfError('WHARF_ERR_DYNAMIC_CONFIG', `${field}: expected host:port such as 10.0.0.5:53, [fd00::5]:53 or dns:53, got ${JSON.stringify(address)}`);
  }
  const host = m[1] ?? m[2]!;
  const family = isIP(host);
  if (m[1] !== undefined && family !== 6) {
    throw new WharfError('WHARF_ERR_DYNAMIC_CONFIG', `${field}: only IPv6 addresses go in brackets, got ${JSON.stringify(address)}`);
  }
  return { host, port, family: family as 0 | 4 | 6, address };
}
