// Options of inFlightReq: Traefik's names and defaults.
import { Section, StringList, Type, type Static } from '@wharf/core';

const IPStrategy = Type.Object(
  {
    depth: Type.Optional(Type.Integer({ minimum: 0, description: 'Use the depth-th address of X-Forwarded-For counted from the right (1 = the last one added); 0 = not used. Wins over excludedIPs.' })),
    excludedIPs: Type.Optional(StringList({ description: 'Walk X-Forwarded-For from the right and use the first address outside these IPs/CIDRs (your own proxies).' })),
    ipv6Subnet: Type.Optional(Type.Integer({ minimum: 1, maximum: 128, description: 'Count IPv6 clients per subnet of this prefix length (e.g. 64).' })),
  },
  {
    additionalProperties: false,
    description: 'Count per client IP; X-Forwarded-For is read only from peers the entrypoint trusts (forwardedHeaders), else the TCP peer; true = the TCP peer.',
  },
);

const SourceCriterion = Type.Object(
  {
    ipStrategy: Type.Optional(Section(IPStrategy)),
    requestHeaderName: Type.Optional(Type.String({ minLength: 1, description: 'Count per value of this request header (requests without it share one count, as in Traefik).' })),
    requestHost: Type.Optional(Type.Boolean({ description: 'Count per Host header (the default when no criterion is set).' })),
  },
  { additionalProperties: false, description: 'What groups requests into one count; at most one criterion; default requestHost, as in Traefik.' },
);

export const schema = Type.Object(
  {
    amount: Type.Integer({ minimum: 0, description: 'Simultaneous requests allowed per source; more get 429. Required (0 refuses every request, as in Traefik).' }),
    sourceCriterion: Type.Optional(Section(SourceCriterion)),
  },
  { additionalProperties: false },
);

export type InFlightReqConfig = Static<typeof schema>;
