// UDP configuration (Traefik's `udp.*` and `entryPoints.<ep>.udp`): routers from an entrypoint to a service,
// services balancing sessions over servers (`loadBalancer`) or over other services (`weighted`).
import type { ElementInfo } from './runtime.js';
import { Type, type Static, Duration, Element, MapOf, StringList } from './schema.js';

/** `entryPoints.<ep>.udp`: only read on entrypoints whose address ends in `/udp`. */
export const EntryPointUDPSchema = Type.Object(
  {
    timeout: Duration({
      default: '3s',
      description: 'How long a UDP session (one client address) stays open without a packet either way (default 3s, as Traefik); must be more than 0.',
    }),
  },
  { additionalProperties: false, default: {} },
);

const UDPRouterSchema = Element(
  Type.Object(
    {
      entryPoints: Type.Optional(StringList({ description: 'UDP entrypoints the router listens on; every UDP entrypoint when empty.' })),
      service: Type.String({ minLength: 1, description: 'UDP service name (name or name@provider).' }),
    },
    { additionalProperties: false },
  ),
);

const UDPServerSchema = Type.Object(
  { address: Type.String({ minLength: 1, description: 'host:port of the server, e.g. 10.0.0.5:53 or [fd00::5]:53.' }) },
  { additionalProperties: false },
);

const UDPServiceSchema = Element(
  Type.Object(
    {
      loadBalancer: Type.Optional(
        Type.Object({ servers: Type.Array(UDPServerSchema, { default: [], description: 'Servers; each new session goes to the next one (round-robin).' }) }, { additionalProperties: false }),
      ),
      weighted: Type.Optional(
        Type.Object(
          {
            services: Type.Array(
              Type.Object(
                {
                  name: Type.String({ minLength: 1, description: 'UDP service (name or name@provider).' }),
                  weight: Type.Integer({ minimum: 0, default: 1, description: 'Relative share of new sessions (default 1).' }),
                },
                { additionalProperties: false },
              ),
              { minItems: 1 },
            ),
          },
          { additionalProperties: false },
        ),
      ),
    },
    { additionalProperties: false, minProperties: 1, maxProperties: 1 },
  ),
);

/** The `udp` section of a dynamic configuration. */
export const UDPSectionSchema = Type.Object(
  { routers: Type.Optional(MapOf(UDPRouterSchema)), services: Type.Optional(MapOf(UDPServiceSchema)) },
  { additionalProperties: false },
);

export type UDPRouterConfig = Static<typeof UDPRouterSchema>;
export type UDPServiceConfig = Static<typeof UDPServiceSchema>;
export type UDPConfig = Static<typeof UDPSectionSchema>;
export type EntryPointUDPConfig = Static<typeof EntryPointUDPSchema>;

/** Element kinds of the `udp` section, as problems name them (`udp.routers`). */
export type UDPElementKind = 'udp.routers' | 'udp.services';

/** A UDP router as built: status, errors and the entrypoints it serves (Traefik's UDPRouterInfo). */
export interface UDPRouterInfo extends ElementInfo {
  config?: UDPRouterConfig;
  /** UDP entrypoints the router is attached to (Traefik's `using`). */
  entryPoints: string[];
  /** Qualified service name. */
  service?: string;
}

export interface UDPServiceInfo extends ElementInfo {
  config?: UDPServiceConfig;
  type?: 'loadBalancer' | 'weighted';
  /** Routers and weighted services using it. */
  usedBy: string[];
}
