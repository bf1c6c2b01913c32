// An in-process gateway for end-to-end tests: startGateway on 127.0.0.1:0 with a dynamic configuration.
// Not in @wharf/test-helpers: that package must not import @wharf/core, whose own tests import the package.
import type { EmbeddedGateway } from '@wharf/core';
import { startGateway, type DistributionStartOptions as StartOptions } from 'wharf';

export interface TestGateway {
  gateway: EmbeddedGateway;
  /** Port of the `web` entrypoint. */
  port: number;
  stop(): Promise<void>;
}

/** Starts a gateway whose `web` entrypoint listens on an ephemeral loopback port. */
export async function startTestGateway(dynamic: unknown, options: StartOptions = {}): Promise<TestGateway> {
  const gateway = await startGateway({
    ...options,
    args: ['--entrypoints.web.address=127.0.0.1:0', ...(options.args ?? [])],
    dynamic,
  });
  return { gateway, port: gateway.address('web').port, stop: () => gateway.stop() };
}

/** `{ http: { routers, services } }` with one load-balancer service per entry of `services`. */
export function httpConfig(
  routers: Record<string, Record<string, unknown>>,
  services: Record<string, string[]>,
  extra: Record<string, unknown> = {},
): { http: Record<string, unknown> } {
  const svc: Record<string, unknown> = {};
  for (const [name, urls] of Object.entries(services)) svc[name] = { loadBalancer: { servers: urls.map((url) => ({ url })) } };
  return { http: { routers, services: svc, ...extra } };
}
