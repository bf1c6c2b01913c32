// tls.{ca, cert, key, insecureSkipVerify} towards an HTTPS collector, with real handshakes: a private CA, mutual
// TLS, and an unknown certificate refused (reported on the gateway log) unless insecureSkipVerify.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { eventually, makeCA, makeCert, startOtlpReceiver, type OtlpReceiver, type Pem } from '@wharf/test-helpers';
import { OtlpLogPipeline, SeverityNumber, type OtlpTLS } from './index.js';

let ca: Pem;
let clientCA: Pem;
let server: Pem;
let client: Pem;
let collector: OtlpReceiver;

before(async () => {
  ca = await makeCA('collector CA');
  clientCA = await makeCA('client CA');
  client = await makeCert(['wharf-client'], { ca: clientCA, usage: 'client' });
  server = await makeCert(['127.0.0.1'], { ca });
  collector = await startOtlpReceiver({ tls: { ...server, clientCA: clientCA.cert } });
});

after(async () => {
  await collector.close();
});

function pipeline(tls: OtlpTLS, logs: { msg: string }[] = []) {
  const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as { msg: string }) });
  return new OtlpLogPipeline(
    { serviceName: 'traefik', resourceAttributes: {}, http: { endpoint: collector.url, headers: {}, tls } },
    { field: 'log.otlp', log, batchDelayMs: 10, exportTimeoutMs: 2000 },
  );
}

function emit(p: OtlpLogPipeline, body: string): void {
  p.emit({ body, severityNumber: SeverityNumber.INFO, severityText: 'info', attributes: {} });
}

test('tls.ca verifies the collector, tls.cert/key answer its request for a client certificate', async () => {
  const p = pipeline({ ca: ca.cert, cert: client.cert, key: client.key, insecureSkipVerify: false });
  try {
    emit(p, 'over mutual TLS');
    await eventually(() => collector.logs.some((r) => r.body === 'over mutual TLS'), 'the record over mutual TLS');
    assert.equal(collector.exports.at(-1)!.clientCN, 'wharf-client');
  } finally {
    await p.shutdown();
  }
});

test('a collector certificate no CA vouches for is refused and reported; insecureSkipVerify accepts it', async () => {
  const logs: { msg: string }[] = [];
  const refused = pipeline({ cert: client.cert, key: client.key, insecureSkipVerify: false }, logs);
  try {
    emit(refused, 'unverified');
    await eventually(() => logs.some((l) => l.msg.includes('cannot export')), 'the refusal on the gateway log');
    assert.equal(refused.outage.dropped, 1);
    assert.ok(!collector.logs.some((r) => r.body === 'unverified'));
  } finally {
    await refused.shutdown();
  }
  const skipping = pipeline({ cert: client.cert, key: client.key, insecureSkipVerify: true });
  try {
    emit(skipping, 'skip verify');
    await eventually(() => collector.logs.some((r) => r.body === 'skip verify'), 'the record with insecureSkipVerify');
  } finally {
    await skipping.shutdown();
  }
});

test('gRPC: tls.ca and a client certificate over mutual TLS; without the CA the collector is refused, unless insecureSkipVerify', async () => {
  const grpc = await startOtlpReceiver({ grpc: true, tls: { ...server, clientCA: clientCA.cert } });
  const logs: { msg: string }[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as { msg: string }) });
  const section = (tls: OtlpTLS) => ({ serviceName: 'traefik', resourceAttributes: {}, grpc: { endpoint: grpc.grpcEndpoint!, insecure: false, headers: {}, tls } });
  const verified = new OtlpLogPipeline(section({ ca: ca.cert, cert: client.cert, key: client.key, insecureSkipVerify: false }), { field: 'log.otlp', log, batchDelayMs: 10 });
  const unverified = new OtlpLogPipeline(section({ cert: client.cert, key: client.key, insecureSkipVerify: false }), { field: 'log.otlp', log, batchDelayMs: 10, exportTimeoutMs: 2000 });
  const skipping = new OtlpLogPipeline(section({ cert: client.cert, key: client.key, insecureSkipVerify: true }), { field: 'log.otlp', log, batchDelayMs: 10 });
  try {
    emit(verified, 'grpc over mutual TLS');
    await eventually(() => grpc.logs.some((r) => r.body === 'grpc over mutual TLS'), 'the record over gRPC and TLS');
    emit(unverified, 'grpc unverified');
    await eventually(() => unverified.outage.dropped === 1, 'the unverified export dropped');
    assert.ok(!grpc.logs.some((r) => r.body === 'grpc unverified'));
    assert.ok(logs.some((l) => l.msg.startsWith('log.otlp (gRPC 127.0.0.1:') && l.msg.includes('cannot export')));
    emit(skipping, 'grpc skip verify');
    await eventually(() => grpc.logs.some((r) => r.body === 'grpc skip verify'), 'the record with insecureSkipVerify over gRPC');
  } finally {
    await skipping.shutdown();
    await verified.shutdown();
    await unverified.shutdown();
    await grpc.close();
  }
});
