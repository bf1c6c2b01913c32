// accessLog.otlp on a real gateway, to a collector written in the test (protobuf over HTTP, and gRPC): one record
// per line with the line as body and the fields as attributes, headers sent, dualOutput, and a collector that is down.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { closedPort, eventually, startOtlpReceiver, startServer, tempDir, type Listening } from '@wharf/test-helpers';
import { gateway, memoryLog, readLines, request, route } from './harness.test.helper.js';

let backend: Listening;

before(async () => {
  backend = await startServer((_req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end('hello');
  });
});

after(async () => {
  await backend.close();
});

test('accessLog.otlp over HTTP: one record per request, the common line as body, every kept field as an attribute', async () => {
  const collector = await startOtlpReceiver();
  const dir = tempDir();
  const file = join(dir.path, 'access.log');
  const gw = await gateway({
    args: [
      `--accessLog.filePath=${file}`,
      `--accessLog.otlp.http.endpoint=${collector.url}`,
      '--accessLog.otlp.http.headers.X-Scope-OrgID=tenant-1',
      '--accessLog.otlp.serviceName=edge',
      '--accessLog.otlp.resourceAttributes.team=platform',
      '--accessLog.fields.names.ClientUsername=drop',
      '--accessLog.fields.headers.names.User-Agent=keep',
    ],
    dynamic: route('app', backend.url),
  });
  try {
    assert.equal((await request(`${gw.web}/hello?x=1`, { headers: { 'user-agent': 'probe/1', host: 'example.test' } })).status, 200);
    assert.equal((await request(`${gw.web}/second`, { method: 'POST', body: 'abc', headers: { host: 'example.test' } })).status, 200);
    await eventually(() => collector.logs.length === 2, 'two access-log records');
    const [first, second] = [...collector.logs].sort((a, b) => Number(a.attributes.RequestCount) - Number(b.attributes.RequestCount));
    assert.match(String(first!.body), /^\S+ - - \[[^\]]+\] "GET \/hello\?x=1 HTTP\/1\.1" 200 5 "-" "probe\/1" 1 "app@inline" "http:\/\/127\.0\.0\.1:\d+" \d+ms$/);
    assert.equal(first!.severityNumber, 9, 'INFO');
    assert.equal(first!.scope, 'traefik');
    const a = first!.attributes;
    assert.equal(a.RequestMethod, 'GET');
    assert.equal(a.RequestPath, '/hello?x=1');
    assert.equal(a.RequestHost, 'example.test');
    assert.equal(a.DownstreamStatus, 200);
    assert.equal(a.OriginStatus, 200);
    assert.equal(a.DownstreamContentSize, 5);
    assert.equal(a.RouterName, 'app@inline');
    assert.equal(a.ServiceName, 'app@inline');
    assert.equal(a.entryPointName, 'web');
    assert.equal(a.RequestProtocol, 'HTTP/1.1');
    assert.equal(a['request_User-Agent'], 'probe/1');
    assert.equal(typeof a.Duration, 'number');
    assert.match(String(a.StartUTC), /^\d{4}-\d\d-\d\dT/);
    assert.ok(!('ClientUsername' in a), 'a dropped field is no attribute');
    assert.equal(second!.attributes.RequestMethod, 'POST');
    assert.equal(second!.attributes.RequestContentSize, 3);
    assert.equal(first!.resource['service.name'], 'edge');
    assert.equal(first!.resource.team, 'platform');
    assert.equal(collector.exports[0]!.headers['x-scope-orgid'], 'tenant-1');
    // Without dualOutput, OTLP replaces the file, as in Traefik.
    assert.deepEqual(readLines(file), []);
  } finally {
    await gw.stop();
    await collector.close();
    dir.remove();
  }
});

test('accessLog.otlp with dualOutput and the json format: the json line is the body and the file has it too; gRPC', async () => {
  const collector = await startOtlpReceiver({ grpc: true });
  const dir = tempDir();
  const file = join(dir.path, 'access.log');
  const gw = await gateway({
    args: [
      `--accessLog.filePath=${file}`,
      '--accessLog.format=json',
      '--accessLog.dualOutput=true',
      `--accessLog.otlp.grpc.endpoint=${collector.grpcEndpoint!}`,
      '--accessLog.otlp.grpc.insecure=true',
    ],
    dynamic: route('app', backend.url),
  });
  try {
    assert.equal((await request(`${gw.web}/json`)).status, 200);
    await eventually(() => collector.logs.length === 1, 'the record over gRPC');
    const lines = await eventually(() => readLines(file).length === 1 && readLines(file), 'the line in the file');
    const body = JSON.parse(String(collector.logs[0]!.body)) as Record<string, unknown>;
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(body.RequestPath, '/json');
    assert.equal(line.RequestPath, '/json');
    assert.equal(collector.logs[0]!.attributes.RequestPath, '/json');
    assert.equal(collector.exports[0]!.transport, 'grpc');
  } finally {
    await gw.stop();
    await collector.close();
    dir.remove();
  }
});

test('a collector that is down: requests are served, the records are dropped and the outage logged once', async () => {
  const port = await closedPort();
  const memory = memoryLog();
  const gw = await gateway({ args: [`--accessLog.otlp.http.endpoint=http://127.0.0.1:${port}`], dynamic: route('app', backend.url), log: memory.log });
  try {
    for (let i = 0; i < 30; i++) assert.equal((await request(`${gw.web}/${i}`)).status, 200);
    const report = await memory.waitFor((r) => r.msg.startsWith('accessLog.otlp (http://127.0.0.1:') && r.msg.includes('cannot export'));
    assert.match(report.msg, /log records are dropped until the collector answers, serving continues/);
    assert.equal(memory.records.filter((r) => r.msg.includes('cannot export')).length, 1);
  } finally {
    await gw.stop();
  }
});

test('bad accessLog.otlp options name the field and stop the start-up', async () => {
  await assert.rejects(gateway({ args: ['--accessLog.otlp.http.endpoint=collector:4318'] }), /accessLog\.otlp\.http\.endpoint: the scheme must be http or https; got 'collector:4318'/);
});
