// Schemas of `loadBalancer.healthCheck` and `loadBalancer.passiveHealthCheck` (Traefik's names and defaults).
import { Duration, MapOf, Section, Type, type Static } from '@wharf/core';

export const HealthCheckSchema = Section(
  Type.Object(
    {
      path: Type.String({ default: '/', description: 'Path (and query) requested on each server, resolved against the server URL (default /).' }),
      scheme: Type.Optional(Type.Union([Type.Literal('http'), Type.Literal('https')], { description: 'Replaces the scheme of the server URL for the check.' })),
      mode: Type.Optional(Type.Literal('http', { description: 'Only http: gRPC health checks are not supported.' })),
      hostname: Type.Optional(Type.String({ minLength: 1, description: 'Host header of the check (default: the server URL host).' })),
      port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'Replaces the port of the server URL for the check.' })),
      interval: Duration({ default: '30s', exclusiveMinimum: 0, description: 'Time between two checks of a server that is up (default 30s).' }),
      unhealthyInterval: Type.Optional(Duration({ exclusiveMinimum: 0, description: 'Time between two checks of a server that is down (default: interval).' })),
      timeout: Duration({ default: '5s', exclusiveMinimum: 0, description: 'Time allowed for the answer; no answer in time = down (default 5s).' }),
      method: Type.String({ default: 'GET', pattern: '^[A-Za-z]+$', description: 'HTTP method of the check (default GET).' }),
      status: Type.Optional(Type.Integer({ minimum: 100, maximum: 599, description: 'Status a healthy server answers (default: any 2xx or 3xx).' })),
      headers: Type.Optional(MapOf(Type.String(), { description: 'Headers sent with the check (name: value).' })),
      followRedirects: Type.Boolean({ default: true, description: 'Follow redirects and judge the final answer; false judges the redirect itself (default true).' }),
    },
    { additionalProperties: false },
  ),
);

export const PassiveHealthCheckSchema = Section(
  Type.Object(
    {
      maxFailedAttempts: Type.Integer({ minimum: 1, default: 1, description: 'Failures (connection errors, timeouts, 5xx) within failureWindow that take a server out (default 1).' }),
      failureWindow: Duration({ default: '10s', exclusiveMinimum: 0, description: 'Window in which failures are counted, and how long the server then stays out (default 10s).' }),
    },
    { additionalProperties: false },
  ),
);

export type HealthCheckConfig = Static<typeof HealthCheckSchema>;
export type PassiveHealthCheckConfig = Static<typeof PassiveHealthCheckSchema>;
