// The healthCheck and passiveHealthCheck schemas: Traefik's defaults, label coercion, errors naming the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type TSchema } from '@wharf/core';
import { decode, flatToTree } from '@wharf/core/config';
import { HealthCheckSchema, PassiveHealthCheckSchema } from './schema.js';

const labels = (o: Record<string, string>) => flatToTree(Object.entries(o));
const DEFAULTS = { path: '/', interval: 30_000, timeout: 5_000, method: 'GET', followRedirects: true };

const cases: Array<{ desc: string; schema: TSchema; input: unknown; expected?: unknown; issues?: string[] }> = [
  { desc: 'an empty healthCheck gets Traefik defaults', schema: HealthCheckSchema, input: {}, expected: DEFAULTS },
  { desc: 'healthCheck=true enables it with defaults', schema: HealthCheckSchema, input: 'true', expected: DEFAULTS },
  {
    desc: 'labels: mixed case, durations, integers, booleans, header map, fixed words',
    schema: HealthCheckSchema,
    input: labels({
      Path: '/health?full=1',
      interval: '10s',
      unhealthyinterval: '1s',
      timeout: '500ms',
      scheme: 'HTTPS',
      mode: 'http',
      hostname: 'probe.local',
      port: '8443',
      method: 'HEAD',
      status: '204',
      'headers.X-Probe': 'yes',
      followredirects: 'false',
    }),
    expected: {
      path: '/health?full=1',
      interval: 10_000,
      unhealthyInterval: 1_000,
      timeout: 500,
      scheme: 'https',
      mode: 'http',
      hostname: 'probe.local',
      port: 8443,
      method: 'HEAD',
      status: 204,
      headers: { 'X-Probe': 'yes' },
      followRedirects: false,
    },
  },
  { desc: 'a plain number is seconds', schema: HealthCheckSchema, input: { interval: 2 }, expected: { ...DEFAULTS, interval: 2_000 } },
  { desc: 'bad duration', schema: HealthCheckSchema, input: { interval: 'soon' }, issues: ['interval: expected a duration such as 10s, 500ms, 1m30s or a number of seconds (got "soon")'] },
  { desc: 'a zero interval would spin', schema: HealthCheckSchema, input: { interval: 0 }, issues: ['interval: must be > 0'] },
  { desc: 'status out of range', schema: HealthCheckSchema, input: { status: 700 }, issues: ['status: must be <= 599'] },
  { desc: 'port out of range', schema: HealthCheckSchema, input: { port: 0 }, issues: ['port: must be >= 1'] },
  { desc: 'typo with a suggestion', schema: HealthCheckSchema, input: { pth: '/x' }, issues: ["pth: unknown field 'pth' (did you mean 'path'?)"] },
  { desc: 'gRPC mode is refused', schema: HealthCheckSchema, input: { mode: 'grpc' }, issues: ['mode: expected "http" (got "grpc")'] },
  { desc: 'unknown scheme', schema: HealthCheckSchema, input: { scheme: 'ftp' }, issues: ['scheme: expected "http" or "https" (got "ftp")'] },
  { desc: 'method must be a token', schema: HealthCheckSchema, input: { method: 'GE T' }, issues: ['method: must match pattern "^[A-Za-z]+$"'] },
  { desc: 'passive defaults (Traefik: 1 failure, 10s)', schema: PassiveHealthCheckSchema, input: {}, expected: { maxFailedAttempts: 1, failureWindow: 10_000 } },
  { desc: 'passive from labels', schema: PassiveHealthCheckSchema, input: labels({ maxfailedattempts: '3', failurewindow: '30s' }), expected: { maxFailedAttempts: 3, failureWindow: 30_000 } },
  { desc: 'passive needs at least one failure', schema: PassiveHealthCheckSchema, input: { maxFailedAttempts: 0 }, issues: ['maxFailedAttempts: must be >= 1'] },
];

for (const { desc, schema, input, expected, issues } of cases) {
  test(`schema: ${desc}`, () => {
    const result = decode(schema, input);
    assert.deepEqual(result.issues.map((i) => `${i.source}: ${i.message}`), issues ?? []);
    if (expected !== undefined) assert.deepEqual(result.value, expected);
  });
}
