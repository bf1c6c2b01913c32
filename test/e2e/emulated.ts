// Fixtures of the Engine API emulator suites: emulators, gateways and backends a test starts, all stopped at its end.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineEmulator } from '@wharf/test/docker/emulator.js';
import { startBackend, startTestGateway, type Backend, type TestGateway } from '@wharf/test/docker/harness.js';

/** Throttle below the suites' 1 s deadlines (the default 2 s would only delay a change that follows another). */
export const THROTTLE = '--providers.providersThrottleDuration=100ms';

export class EmulatedStack {
  /** Where the emulators' sockets (and any files a test writes) live. */
  readonly dir: string;
  /** Every emulator of the suite (also ones a test started itself): stopped at the end, their answers checked. */
  readonly emulators: EngineEmulator[] = [];
  private readonly gateways: TestGateway[] = [];
  private readonly backends: Backend[] = [];

  constructor(prefix: string) {
    this.dir = mkdtempSync(join(tmpdir(), prefix));
  }

  async emulator(name: string): Promise<EngineEmulator> {
    const e = await EngineEmulator.start({ socketPath: join(this.dir, `${name}.sock`) });
    this.emulators.push(e);
    return e;
  }

  /** A gateway started with the suite's throttle before `args`. */
  async gateway(args: string[]): Promise<TestGateway> {
    const g = await startTestGateway([THROTTLE, ...args]);
    this.gateways.push(g);
    return g;
  }

  async backend(name: string, host: string, port = 0): Promise<Backend> {
    return this.track(await startBackend(name, host, port))[0]!;
  }

  /** Backends started elsewhere, stopped with the rest. */
  track(...backends: Backend[]): Backend[] {
    this.backends.push(...backends);
    return backends;
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.gateways.map((g) => g.stop()));
    await Promise.allSettled(this.backends.map((b) => b.close()));
    await Promise.allSettled(this.emulators.map((e) => e.stop()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
