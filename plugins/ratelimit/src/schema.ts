// Options of the rateLimit middleware: one schema for labels, files, validation, defaults and the README table.
import { Duration, Section, StringList, Type, type Static } from '@wharf/core';
import { redisConnectionProperties } from '@wharf/redis';

const IPStrategy = Type.Object(
  {
    depth: Type.Optional(Type.Integer({ minimum: 0, description: 'Use the depth-th address of X-Forwarded-For counted from the right (1 = the last proxy added it); 0 = not used. Wins over excludedIPs, as in Traefik.' })),
    excludedIPs: Type.Optional(StringList({ description: 'Walk X-Forwarded-For from the right and use the first address outside these IPs/CIDRs (your own proxies).' })),
    ipv6Subnet: Type.Optional(Type.Integer({ minimum: 0, maximum: 128, description: 'Group IPv6 clients by this prefix length (e.g. 64), so one host cannot rotate addresses inside its subnet.' })),
  },
  {
    additionalProperties: false,
    description: 'Group by client IP; X-Forwarded-For is read only from peers the entrypoint trusts (forwardedHeaders); true = the TCP peer.',
  },
);

const SourceCriterion = Type.Object(
  {
    ipStrategy: Type.Optional(Section(IPStrategy)),
    requestHeaderName: Type.Optional(Type.String({ minLength: 1, description: 'Group requests by the value of this request header (e.g. X-Api-Key).' })),
    requestHost: Type.Optional(Type.Boolean({ description: 'Group requests by their Host header.' })),
  },
  { additionalProperties: false, description: 'What groups requests into one bucket; at most one criterion; default: the client IP (TCP peer).' },
);

const Redis = Type.Object(
  {
    ...redisConnectionProperties,
    poolSize: Type.Optional(Type.Integer({ minimum: 0, description: 'Accepted for compatibility with Traefik; one pipelined connection per Redis node is used.' })),
    minIdleConns: Type.Optional(Type.Integer({ minimum: 0, description: 'Accepted for compatibility with Traefik; ignored.' })),
    maxActiveConns: Type.Optional(Type.Integer({ minimum: 0, description: 'Accepted for compatibility with Traefik; ignored.' })),
  },
  { additionalProperties: false, description: 'Keep the buckets in Redis so every replica shares them.' },
);

export const schema = Type.Object(
  {
    average: Type.Integer({ minimum: 0, default: 0, description: 'Requests allowed per period on average; 0 = no limit (default 0).' }),
    period: Duration({ default: '1s', description: 'The period of average (default 1s; 0 = 1s).' }),
    burst: Type.Integer({ default: 1, description: 'Requests that may pass at once after idling: the bucket size (default 1; below 1 = 1).' }),
    maxDelay: Type.Optional(Duration({ description: 'Hold a request this long at most for its token, then 429 (default min(period/(2·average), 500ms); 0 = never hold).' })),
    sourceCriterion: Type.Optional(Section(SourceCriterion)),
    missingKey: Type.Optional(
      Type.Union([Type.Literal('clientIP'), Type.Literal('shared')], {
        description: 'With requestHeaderName, requests without the header are limited per clientIP, or all in one shared bucket (default clientIP).',
      }),
    ),
    scope: Type.Union([Type.Literal('middleware'), Type.Literal('router')], {
      default: 'middleware',
      description: 'middleware: one budget across every router using it; router: a budget per router (default middleware).',
    }),
    headers: Type.Boolean({ default: false, description: 'Send RateLimit-Policy, RateLimit and X-RateLimit-Limit/-Remaining/-Reset on every response (default false).' }),
    maxKeys: Type.Integer({ minimum: 1, default: 65536, description: 'Buckets kept in memory per middleware; the least recently used goes first (default 65536).' }),
    redis: Type.Optional(Section(Redis)),
    onStoreError: Type.Union([Type.Literal('allow'), Type.Literal('deny')], {
      default: 'allow',
      description: 'When Redis is unreachable or slow: allow (limit per replica with an in-memory bucket of the same settings) or deny (503) (default allow).',
    }),
  },
  { additionalProperties: false },
);

export type RateLimitConfig = Static<typeof schema>;
export type RedisConfig = NonNullable<RateLimitConfig['redis']>;
export type SourceCriterionConfig = NonNullable<RateLimitConfig['sourceCriterion']>;
