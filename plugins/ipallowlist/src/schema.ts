// Options of ipAllowList (and of the deprecated ipWhiteList): Traefik's names and defaults.
import { Section, StringList, Type, type Static } from '@wharf/core';

const IPStrategy = Type.Object(
  {
    depth: Type.Optional(Type.Integer({ minimum: 0, description: 'Use the depth-th address of X-Forwarded-For counted from the right (1 = the last one added); fewer addresses = refused. Wins over excludedIPs.' })),
    excludedIPs: Type.Optional(StringList({ description: 'Walk X-Forwarded-For from the right and judge the first address outside these IPs/CIDRs (your own proxies); none = refused.' })),
    ipv6Subnet: Type.Optional(Type.Integer({ minimum: 1, maximum: 128, description: 'Judge an IPv6 client by the first address of its subnet of this prefix length (peer and depth only, as in Traefik).' })),
  },
  {
    additionalProperties: false,
    description: "Where the client IP comes from; default the TCP peer. X-Forwarded-For counts only from peers the entrypoint trusts (forwardedHeaders), else it is empty, as Traefik's entrypoint strips it.",
  },
);

export type IPStrategyConfig = Static<typeof IPStrategy>;

const sourceRange = StringList({ description: 'Allowed IPv4/IPv6 addresses and CIDR ranges (e.g. 10.0.0.0/8, 2001:db8::/32). Required.' });

export const ipAllowListSchema = Type.Object(
  {
    sourceRange,
    ipStrategy: Type.Optional(Section(IPStrategy)),
    rejectStatusCode: Type.Integer({ minimum: 0, maximum: 599, default: 403, description: 'Status of refused requests, with its status text as body (default 403; 0 = 403).' }),
  },
  { additionalProperties: false },
);

export const ipWhiteListSchema = Type.Object(
  { sourceRange, ipStrategy: Type.Optional(Section(IPStrategy)) },
  { additionalProperties: false },
);

/** `tcp.middlewares.<name>.ipAllowList`: Traefik's TCP IPAllowList has the ranges only (the peer is judged). */
export const tcpIPAllowListSchema = Type.Object(
  { sourceRange: StringList({ description: 'Allowed IPv4/IPv6 addresses and CIDR ranges; other clients\' connections are closed. Required.' }) },
  { additionalProperties: false },
);
