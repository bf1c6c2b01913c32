// Redis connection settings shared by the plugins that keep state in Redis (rateLimit, acme): one schema for
// endpoints, credentials, database, TLS and timeouts, and the ioredis options it stands for.
import type { RedisOptions } from 'ioredis';
import { Duration, Secret, Section, StringList, Type, type Static } from '@wharf/core';
import { readCertificates, readPemValue } from '@wharf/core/tls';

export const RedisTLSSchema = Type.Object(
  {
    ca: Type.Optional(Type.String({ description: 'CA certificate for the Redis server: a PEM file path or PEM text.' })),
    cert: Type.Optional(Type.String({ description: 'Client certificate: a PEM file path or PEM text (with key).' })),
    key: Type.Optional(Secret({ description: 'Client private key: a PEM file path or PEM text (with cert).' })),
    insecureSkipVerify: Type.Optional(Type.Boolean({ default: false, description: 'Do not verify the Redis server certificate (default false).' })),
  },
  { additionalProperties: false, description: 'Connect over TLS; true = verify the server with the system CAs.' },
);

/** The connection fields, for a plugin's own `redis` section (which may add fields of its own). */
export const redisConnectionProperties = {
  endpoints: StringList({ default: ['127.0.0.1:6379'], description: 'host:port of Redis; several endpoints = a Redis Cluster (default 127.0.0.1:6379).' }),
  username: Type.Optional(Type.String({ description: 'ACL user name.' })),
  password: Type.Optional(Secret({ description: 'Password (never logged).' })),
  db: Type.Integer({ minimum: 0, default: 0, description: 'Database number; a Redis Cluster only has 0 (default 0).' }),
  tls: Type.Optional(Section(RedisTLSSchema)),
  dialTimeout: Duration({ default: '5s', description: 'Time allowed to connect (default 5s).' }),
  readTimeout: Duration({ default: '3s', description: 'Time allowed for a reply; a silent connection is dropped and re-dialed (default 3s).' }),
  writeTimeout: Duration({ default: '3s', description: 'Added to readTimeout as the bound of one command (default 3s).' }),
};

/** A `redis` section of the connection fields alone, described by `description`. */
export function redisConnectionSchema(description: string) {
  return Type.Object(redisConnectionProperties, { additionalProperties: false, description });
}

export type RedisConnection = Static<ReturnType<typeof redisConnectionSchema>>;

/** The section's defaults (127.0.0.1:6379, db 0, the timeouts), for a plugin that connects without a section. */
export function redisConnectionDefaults(): RedisConnection {
  const entries = Object.entries(redisConnectionProperties).filter(([, schema]) => 'default' in schema);
  return structuredClone(Object.fromEntries(entries.map(([name, schema]) => [name, (schema as { default: unknown }).default]))) as RedisConnection;
}

export interface RedisEndpoint {
  host: string;
  port: number;
}

/** `host:port`, `host` (port 6379) or `[::1]:6379`; errors name `<field>.endpoints`. */
export function parseEndpoint(endpoint: string, field = 'redis'): RedisEndpoint {
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(endpoint.trim());
  const port = m?.[3] === undefined ? 6379 : Number(m[3]);
  if (!m || port < 1 || port > 65535) throw new Error(`${field}.endpoints: '${endpoint}' is not host:port`);
  return { host: (m[1] ?? m[2])!, port };
}

/** Cross-field checks for a plugin's `validate`; errors name `<field>.<option>`. */
export function checkRedisConnection(config: RedisConnection, field = 'redis'): void {
  for (const endpoint of config.endpoints) parseEndpoint(endpoint, field);
  if (config.endpoints.length === 0) throw new Error(`${field}.endpoints: give at least one host:port`);
  if (config.endpoints.length > 1 && config.db !== 0) throw new Error(`${field}.db: a Redis Cluster (several endpoints) only has database 0`);
  if (config.tls && (config.tls.cert === undefined) !== (config.tls.key === undefined)) {
    throw new Error(`${field}.tls: cert and key go together`);
  }
}

export interface RedisConnectionOptions {
  /** One node, or a Redis Cluster's seed nodes. */
  nodes: RedisEndpoint[];
  /** Credentials, database, timeouts and TLS (PEM read now); the plugin adds its own behaviour options. */
  redis: RedisOptions;
  /** `host:port[,host:port…]`, for logs and errors: never the password. */
  description: string;
}

/** The connection settings as ioredis options; TLS files are read now, their errors naming `<field>.tls.<option>`. */
export function redisConnectionOptions(config: RedisConnection, field = 'redis'): RedisConnectionOptions {
  const nodes = config.endpoints.map((endpoint) => parseEndpoint(endpoint, field));
  const redis: RedisOptions = {
    username: config.username,
    password: config.password,
    db: config.db,
    connectTimeout: config.dialTimeout,
    // ioredis has no separate write deadline: one command must be written and answered within both.
    // 0 means no bound: ioredis would otherwise fail every command (and drop every socket) at once.
    commandTimeout: config.writeTimeout + config.readTimeout || undefined,
    socketTimeout: config.readTimeout || undefined,
  };
  if (config.tls) {
    const { ca, cert, key, insecureSkipVerify } = config.tls;
    redis.tls = {
      ca: ca === undefined ? undefined : readCertificates(ca, `${field}.tls.ca`),
      cert: cert === undefined ? undefined : readPemValue(cert, `${field}.tls.cert`),
      key: key === undefined ? undefined : readPemValue(key, `${field}.tls.key`),
      rejectUnauthorized: insecureSkipVerify !== true,
    };
  }
  return { nodes, redis, description: nodes.map((n) => `${n.host}:${n.port}`).join(',') };
}
