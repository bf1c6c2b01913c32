// Listen addresses in Traefik's form: `:80`, `127.0.0.1:8080`, `[::1]:8080`, `host:port/tcp`.
import { WharfError } from '../errors.js';

export interface ListenAddress {
  /** Undefined means every interface (IPv4 and IPv6). */
  host: string | undefined;
  port: number;
}

export function parseAddress(address: string, entrypoint: string): ListenAddress {
  const text = address.trim().replace(/\/tcp$/i, '');
  if (/\/udp$/i.test(text)) {
    throw new WharfError('WHARF_ERR_STATIC_CONFIG', `entryPoints.${entrypoint}.address: UDP entrypoints are not supported (got "${address}")`);
  }
  const m = /^(?:\[([0-9a-fA-F:.%\w]+)\]|([^:[\]]*))?:(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    throw new WharfError(
      'WHARF_ERR_STATIC_CONFIG',
      `entryPoints.${entrypoint}.address: expected [host]:port such as :80, 127.0.0.1:8080 or [::1]:8080 (got "${address}")`,
    );
  }
  const host = m[1] ?? (m[2] || undefined);
  return { host, port };
}
