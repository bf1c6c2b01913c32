// End-to-end static configuration of the `wharf` command: --help, flag spelling, sections, durations, precedence, errors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { canConnect, closedPort, get, json, request, runWharf, spawnWharf, startBackend, tempDir, type Backend, type EchoBody, type Exit, type TempDir, type WharfProcess } from '@wharf/test-helpers';

type Run = Exit & { stdout: string; stderr: string };

/** Host (without the port) that an entrypoint reported listening on. */
async function listeningHost(wharf: WharfProcess, entrypoint: string): Promise<string> {
  return (await wharf.waitFor(new RegExp(`entrypoint ${entrypoint} listening on (\\S+):\\d+`)))[1]!;
}

/** Resolves with everything the server sent once it closes the connection. */
function readUntilClosed(socket: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.setEncoding('latin1').on('data', (s: string) => (text += s));
    socket.on('close', () => resolve(text));
    socket.on('error', () => undefined);
  });
}

describe('static configuration and the wharf command', () => {
  let backend: Backend;
  let dir: TempDir;
  let unboundPort: number;
  // Few processes, launched together so their start-ups overlap; each test checks its part.
  let help: Promise<Run>;
  let invalid: Promise<Run>;
  /** One gateway whose flags exercise spelling, bare flags, ={} and durations. */
  let flags: WharfProcess;
  /** One gateway whose entrypoints come from file, environment and flags. */
  let layers: WharfProcess;

  before(async () => {
    backend = await startBackend('static');
    dir = tempDir();
    unboundPort = await closedPort();
    const dynamicFile = dir.write(
      'dynamic.yml',
      `http:\n  routers:\n    all:\n      rule: PathPrefix(\`/\`)\n      service: s\n  services:\n    s:\n      loadBalancer:\n        servers:\n          - url: ${backend.url}\n`,
    );
    help = runWharf(['--help']);
    invalid = runWharf(
      [
        `--entrypoints.other.address=127.0.0.1:${unboundPort}`,
        '--entrypoints.web.adress=127.0.0.1:0',
        '--entrypoints.web.transport.keepAliveMaxRequests=many',
        '--providers.providersThrottleDuration=fast',
      ],
      { env: { WHARF_ENTRYPOINTS_OTHER_TRANSPORT_MAXCONECTIONS: '5' } },
    );
    flags = spawnWharf([
      '--entryPoints.web.address=127.0.0.1:0',
      '--entrypoints.web.transport.lifeCycle.graceTimeOut=10s',
      '--ENTRYPOINTS.WEB.transport.respondingTimeouts.readTimeout=500ms',
      '--entrypoints.web.transport.respondingTimeouts.idleTimeout=1',
      '--entrypoints.web.forwardedHeaders.insecure',
      '--entrypoints.traefik.address=127.0.0.1:0',
      '--ping={}',
      `--PROVIDERS.FILE.FILENAME=${dynamicFile}`,
      '--providers.providersThrottleDuration=50ms',
    ]);
    // Loopback addresses tell the sources apart: file 127.0.0.1, environment 127.0.0.2, flags 127.0.0.3.
    const file = dir.write('wharf.yml', 'entryPoints:\n  a:\n    address: 127.0.0.1:0\n  b:\n    address: 127.0.0.1:0\n  c:\n    address: 127.0.0.1:0\n');
    layers = spawnWharf([`--configFile=${file}`, '--entrypoints.c.address=127.0.0.3:0', '--entrypoints.d.address=127.0.0.3:0'], {
      env: { WHARF_ENTRYPOINTS_B_ADDRESS: '127.0.0.2:0', WHARF_ENTRYPOINTS_C_ADDRESS: '127.0.0.2:0', WHARF_ENTRYPOINTS_D_ADDRESS: '127.0.0.2:0' },
    });
  });

  after(async () => {
    await Promise.all([flags.stop(), layers.stop(), help, invalid]);
    await backend.close();
    dir.remove();
  });

  test('--help exits 0 and lists the flags', async () => {
    const result = await help;
    assert.equal(result.code, 0, result.stderr);
    for (const flag of ['--entryPoints.<name>.address', '--entryPoints.<name>.transport.lifeCycle.graceTimeOut', '--providers.file.filename', '--configFile']) {
      assert.ok(result.stdout.includes(flag), `--help lists ${flag}`);
    }
  });

  test('keys are case-insensitive: --entryPoints, --entrypoints and --ENTRYPOINTS name the same entrypoint', async () => {
    const port = await flags.port();
    await flags.waitFor(/applied: 1 routers/);
    assert.equal((await get(port, '/')).status, 200);
    // Two entrypoints (web and traefik), not one per spelling.
    assert.equal(flags.stdout().match(/listening on/g)?.length, 2);
  });

  test('a bare flag means true (--entrypoints.web.forwardedHeaders.insecure)', async () => {
    const port = await flags.port();
    await flags.waitFor(/applied: 1 routers/);
    const seen = json<EchoBody>(await get(port, '/', 'localhost', { 'x-forwarded-for': '198.51.100.1' })).headers;
    assert.equal(seen['x-forwarded-for'], '198.51.100.1, 127.0.0.1');
  });

  test('={} enables a section with its defaults (--ping={})', async () => {
    const reply = await request(await flags.port('traefik'), { path: '/ping' });
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'OK');
  });

  test('durations: 500ms and plain seconds are read as such', async () => {
    const port = await flags.port();
    // A request head that never ends is answered 408 (the default 60s would outlast the helper's wait).
    const slow = net.connect(port, '127.0.0.1', () => slow.write('GET / HTTP/1.1\r\nHost: x\r\n'));
    assert.match(await readUntilClosed(slow), /^HTTP\/1\.1 408 /);
    // An idle keep-alive connection is closed after 1 s (the default would be 180 s).
    const idle = net.connect(port, '127.0.0.1', () => idle.write('GET /x HTTP/1.1\r\nHost: x\r\n\r\n'));
    assert.match(await readUntilClosed(idle), /^HTTP\/1\.1 200 /);
  });

  test('precedence: configuration file < WHARF_* environment < flags', async () => {
    assert.equal(await listeningHost(layers, 'a'), '127.0.0.1', 'file only');
    assert.equal(await listeningHost(layers, 'b'), '127.0.0.2', 'environment over file');
    assert.equal(await listeningHost(layers, 'c'), '127.0.0.3', 'flag over environment and file');
    assert.equal(await listeningHost(layers, 'd'), '127.0.0.3', 'flag over environment');
  });

  test('an unknown key fails start-up with a suggestion, before anything is bound', async () => {
    const result = await invalid;
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /--entrypoints\.web\.adress: unknown field 'adress' \(did you mean 'address'\?\)/);
    assert.doesNotMatch(result.stdout + result.stderr, /listening on/);
    assert.equal(await canConnect(unboundPort), false);
  });

  test('an unknown key from the environment is named as the variable', async () => {
    const result = await invalid;
    assert.match(result.stderr, /WHARF_ENTRYPOINTS_OTHER_TRANSPORT_MAXCONECTIONS: unknown field 'maxconections' \(did you mean 'maxConnections'\?\)/);
  });

  test('a bad value names the key, the value and the expected type', async () => {
    const result = await invalid;
    assert.match(result.stderr, /--entrypoints\.web\.transport\.keepAliveMaxRequests: expected a whole number \(got "many"\)/);
    assert.match(result.stderr, /--providers\.providersThrottleDuration: expected a duration such as 10s, 500ms, 1m30s or a number of seconds \(got "fast"\)/);
  });
});
