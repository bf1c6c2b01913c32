// Static options of the docker and swarm providers, with Traefik's names: the `providers.docker` (v2 form,
// swarmMode inside) and `providers.swarm` (v3 form) sections.
import { Type, type Static, Duration, Section } from '@wharf/core';

export const DEFAULT_RULE = 'Host(`{{ normalize .Name }}`)';
export const DEFAULT_ENDPOINT = 'unix:///var/run/docker.sock';

const TLSSchema = Type.Object(
  {
    ca: Type.Optional(Type.String({ description: 'CA certificate (PEM file) the engine certificate must be signed by.' })),
    caOptional: Type.Optional(Type.Boolean({ description: 'Accepted for compatibility.' })),
    cert: Type.Optional(Type.String({ description: 'Client certificate (PEM file) presented to the engine.' })),
    key: Type.Optional(Type.String({ description: 'Client private key (PEM file).' })),
    insecureSkipVerify: Type.Boolean({ default: false, description: 'Do not verify the engine certificate (default false).' }),
  },
  { additionalProperties: false },
);

function commonProperties() {
  return {
    endpoint: Type.Optional(
      Type.String({
        minLength: 1,
        description: `Engine API address: ${DEFAULT_ENDPOINT} (default; DOCKER_HOST when set), tcp://host:2375, or tcp://host:2376 with tls.`,
      }),
    ),
    tls: Type.Optional(Section(TLSSchema)),
    exposedByDefault: Type.Boolean({ default: true, description: 'Expose containers without <prefix>.enable=true (default true).' }),
    network: Type.Optional(Type.String({ description: 'Network whose address is used, unless <prefix>.docker.network (swarm: <prefix>.swarm.network) says otherwise (default: the only or first one).' })),
    defaultRule: Type.String({ default: DEFAULT_RULE, minLength: 1, description: 'Rule template for routers without a rule (default Host(`{{ normalize .Name }}`)).' }),
    constraints: Type.Optional(Type.String({ description: 'Expression over labels selecting what is served: Label(`k`,`v`), LabelRegex(`k`,`re`), !, &&, ||.' })),
    useBindPortIP: Type.Boolean({ default: false, description: 'Use the host IP and port a container port is published on (default false).' }),
    allowEmptyServices: Type.Boolean({ default: false, description: 'Keep routers of unhealthy containers and empty services, answering 503 (default false).' }),
    watch: Type.Boolean({ default: true, description: 'Follow engine events and, for swarm, poll tasks (default true); false reads once.' }),
    refreshSeconds: Duration({ default: '15s', minimum: 100, description: 'Swarm: how often tasks are re-listed besides events (default 15s; plain numbers are seconds).' }),
    httpClientTimeout: Duration({ default: 0, description: 'Timeout of one engine API request; 0 = Wharf default of 10s.' }),
    labelPrefix: Type.String({
      default: 'wharf',
      pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$',
      description: 'Wharf: label namespace read (default wharf; traefik serves a Traefik-labelled stack unchanged).',
    }),
  };
}

export const DockerProviderSchema = Type.Object(
  {
    ...commonProperties(),
    swarmMode: Type.Boolean({ default: false, description: 'Read Docker Swarm services instead of containers (Traefik v2 form; default false).' }),
    swarmModeRefreshSeconds: Type.Optional(Duration({ minimum: 100, description: 'Traefik v2 name of refreshSeconds.' })),
  },
  { additionalProperties: false },
);

export const SwarmProviderSchema = Type.Object(commonProperties(), { additionalProperties: false });

export type DockerProviderConfig = Static<typeof DockerProviderSchema>;
export type SwarmProviderConfig = Static<typeof SwarmProviderSchema>;

/** Options after the v2 and v3 forms are reconciled. */
export interface DockerOptions extends SwarmProviderConfig {
  swarmMode: boolean;
}

export function dockerOptions(config: DockerProviderConfig): DockerOptions {
  const { swarmModeRefreshSeconds, ...rest } = config;
  return { ...rest, refreshSeconds: swarmModeRefreshSeconds ?? config.refreshSeconds };
}

export function swarmOptions(config: SwarmProviderConfig): DockerOptions {
  return { ...config, swarmMode: true };
}
