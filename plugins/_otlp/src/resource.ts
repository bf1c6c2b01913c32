// The resource every export carries, in Traefik's order: detected host/OS/process attributes, then service.name and
// the section's resourceAttributes, then OTEL_RESOURCE_ATTRIBUTES / OTEL_SERVICE_NAME from the environment.
import { detectResources, envDetector, hostDetector, osDetector, processDetector, resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { OtlpConnection } from './schema.js';

/** process.pid tells the workers of one gateway apart: each pushes its own cumulative series. */
export function otlpResource(section: OtlpConnection, version: string | undefined): Resource {
  const detected = detectResources({ detectors: [hostDetector, osDetector, processDetector] });
  const own = resourceFromAttributes({
    'service.name': section.serviceName,
    ...(version === undefined ? {} : { 'service.version': version }),
    ...section.resourceAttributes,
  });
  return detected.merge(own).merge(detectResources({ detectors: [envDetector] }));
}
