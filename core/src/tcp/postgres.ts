// Postgres' STARTTLS (Traefik's pkg/server/router/tcp/postgres.go): its clients send an SSLRequest in clear and wait
// for `S` before their ClientHello, so a TLS router can only see the SNI after answering it.

/** Postgres' SSLRequest: int32 length 8, int32 code 80877103. */
export const POSTGRES_SSL_REQUEST = Buffer.from([0, 0, 0, 8, 4, 210, 22, 47]);
/** The server's yes to an SSLRequest. */
export const POSTGRES_ACCEPT_TLS = 0x53;
/** Marks a client whose SSLRequest Wharf answered: a passthrough relay asks the server for TLS the same way. */
export const POSTGRES_STARTTLS = Symbol('wharf.postgresStartTLS');

export type PostgresClient = { [POSTGRES_STARTTLS]?: true };

/** The bytes so far agree with the beginning of an SSLRequest. */
export function startsLikePostgres(bytes: Buffer): boolean {
  const n = Math.min(bytes.length, POSTGRES_SSL_REQUEST.length);
  return bytes.subarray(0, n).equals(POSTGRES_SSL_REQUEST.subarray(0, n));
}
