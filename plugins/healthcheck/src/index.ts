// healthCheck: active and passive server health for load-balancer services; down servers leave rotation.
import { definePlugin, Type } from '@wharf/core';
import { HealthMonitor } from './monitor.js';
import { HealthCheckSchema, PassiveHealthCheckSchema } from './schema.js';

export { HealthCheckSchema, PassiveHealthCheckSchema, type HealthCheckConfig, type PassiveHealthCheckConfig } from './schema.js';
export { probe, probeTarget, createProbeClients, type ProbeResult, type ProbeTarget, type ProbeClients, type ProbeTransport } from './probe.js';

export default definePlugin({
  name: 'healthCheck',
  description: 'Active checks (loadBalancer.healthCheck) and passive checks (loadBalancer.passiveHealthCheck) of servers.',
  schema: Type.Object({}, { additionalProperties: false }),
  config: { loadBalancer: { healthCheck: HealthCheckSchema, passiveHealthCheck: PassiveHealthCheckSchema } },
  // Once per gateway: with --workers the primary probes each server once and every worker follows its verdicts.
  primary(_config, host) {
    const monitor = new HealthMonitor({ health: host.health, log: host.log });
    host.events.on('reload', (info) => monitor.reconcile(info));
    host.events.on('upstreamFailure', (event) => monitor.recordFailure(event));
    host.lifecycle.onStop(() => monitor.stop());
  },
});
