// TLS to the collector: otlp.http.tls and otlp.grpc.tls with a private CA and a client certificate (mutual TLS), and
// insecureSkipVerify; a collector whose certificate is not trusted gets nothing, and clients still get answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { eventually, makeCA, makeCert, request, tempDir } from '@wharf/test-helpers';
import { named, traced, traceSpans } from './harness.test.helper.js';

const TRACE_ID = 'a1'.repeat(16);
const TRACEPARENT = `00-${TRACE_ID}-${'b2'.repeat(8)}-01`;

async function pki() {
  const ca = await makeCA('Collector CA');
  const server = await makeCert(['127.0.0.1'], { ca });
  const client = await makeCert(['wharf-exporter'], { ca, usage: 'client' });
  const dir = tempDir('wharf-tracing-tls-');
  const file = (name: string, text: string) => {
    const path = join(dir.path, name);
    writeFileSync(path, text);
    return path;
  };
  return { ca, server, dir, files: { ca: file('ca.pem', ca.cert), cert: file('client.pem', client.cert), key: file('client.key', client.key) } };
}

const cases = [
  { desc: 'OTLP/HTTP over mutual TLS', grpc: false },
  { desc: 'OTLP/gRPC over mutual TLS', grpc: true },
];

for (const { desc, grpc } of cases) {
  test(`${desc}: the private CA verifies the collector, the client certificate identifies Wharf`, async () => {
    const { ca, server, dir, files } = await pki();
    const prefix = grpc ? '--tracing.otlp.grpc' : '--tracing.otlp.http';
    const t = await traced({
      grpc,
      tls: { ...server, clientCA: ca.cert },
      endpointArgs: (r) => [
        grpc ? `${prefix}.endpoint=${r.grpcEndpoint!}` : `${prefix}.endpoint=${r.url}`,
        `${prefix}.tls.ca=${files.ca}`,
        `${prefix}.tls.cert=${files.cert}`,
        `${prefix}.tls.key=${files.key}`,
      ],
    });
    try {
      assert.ok(t.receiver.url.startsWith('https://'));
      assert.equal((await request(t.port, { path: '/', headers: { traceparent: TRACEPARENT } })).status, 200);
      const spans = await traceSpans(t.receiver, TRACE_ID, 2);
      assert.equal(named(spans, 'GET').kind, 2);
      if (!grpc) assert.equal(t.receiver.clientCertificates[0], 'wharf-exporter');
    } finally {
      await t.close();
      dir.remove();
    }
  });
}

test('insecureSkipVerify accepts a collector certificate no CA vouches for', async () => {
  const { server, dir } = await pki();
  const t = await traced({ tls: server, endpointArgs: (r) => [`--tracing.otlp.http.endpoint=${r.url}`, '--tracing.otlp.http.tls.insecureSkipVerify=true'] });
  try {
    assert.equal((await request(t.port, { path: '/', headers: { traceparent: TRACEPARENT } })).status, 200);
    await traceSpans(t.receiver, TRACE_ID, 2);
  } finally {
    await t.close();
    dir.remove();
  }
});

test('a collector certificate that is not trusted: nothing is exported, the failure is logged, clients are served', async () => {
  const { server, dir } = await pki();
  const messages: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void messages.push((JSON.parse(line) as { msg: string }).msg) });
  const t = await traced({ log, tls: server, endpointArgs: (r) => [`--tracing.otlp.http.endpoint=${r.url}`] });
  try {
    assert.equal((await request(t.port, { path: '/', headers: { traceparent: TRACEPARENT } })).status, 200);
    await eventually(() => messages.find((m) => m.startsWith('tracing: cannot export')), 'the failed export logged');
    assert.equal(t.receiver.spans.length, 0);
  } finally {
    await t.close();
    dir.remove();
  }
});
