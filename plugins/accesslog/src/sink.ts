// Where lines go: an asynchronous pino destination (sonic-boom) that reopens on SIGUSR1 and never stops serving.
import { pino } from 'pino';
import { messageOf, type Logger } from '@wharf/core';

type Destination = ReturnType<typeof pino.destination>;

/** sonic-boom's state that its type declarations leave out. */
interface DestinationState {
  /** -1 until the file is open, and for good when opening failed. */
  fd: number;
  destroyed: boolean;
}

function state(dest: Destination): DestinationState {
  return dest as unknown as DestinationState;
}

export interface SinkOptions {
  /** File to append to; stdout when undefined. */
  filePath?: string;
  /** accessLog.bufferingSize, in lines. */
  bufferingSize: number;
  /** The gateway log, for the one report of a failing destination. */
  log: Logger;
}

// bufferingSize counts lines (Traefik); sonic-boom buffers bytes and needs minLength below its 16 KiB write size.
const BYTES_PER_LINE = 256;
const MAX_MIN_LENGTH = 16 * 1024 - 1;
const BUFFER_FLUSH_MS = 1000;
// A destination slower than the traffic must not eat the gateway's memory: past this, lines are dropped.
const MAX_PENDING_BYTES = 32 * 1024 * 1024;
// Lines are gathered this long before one write: a write per line cost more CPU than the rest of a json line.
const GATHER_MS = 5;

/**
 * A pino destination stream. sonic-boom retries a failed write forever while buffering every new line,
 * so on the first error this stops feeding it, drops lines (counted) and says so once on the gateway log;
 * SIGUSR1 (reopen) starts a fresh destination.
 */
export class AccessLogSink {
  private dest: Destination;
  private healthy = true;
  private dropped = 0;
  private slowReported = false;
  private closed = false;
  /** Lines gathered for the next write (see write). */
  private pending = '';
  private pendingLines = 0;
  private gathering: NodeJS.Timeout | undefined;

  constructor(private readonly options: SinkOptions) {
    this.dest = this.open();
    process.once('exit', this.flushAtExit);
  }

  /**
   * Called with one finished line (by the plugin's level callback; pino itself never writes here).
   * Lines are gathered for GATHER_MS and handed over in one
   * write: at a few thousand requests a second an fs.write per line (sonic-boom writes as soon as the
   * previous write is done, and a small one is done long before the next line) was the largest share
   * of a json line's CPU. A line reaches the file a few milliseconds later; requests never wait for it.
   */
  write(line: string): void {
    // A response that ends during shutdown, after close(), still finds a stream here: its line is dropped.
    if (!this.healthy || this.closed) {
      this.dropped++;
      return;
    }
    this.pending += line;
    this.pendingLines++;
    if (this.gathering === undefined) this.gathering = setTimeout(this.flushPending, GATHER_MS).unref();
  }

  private readonly flushPending = (): void => {
    clearTimeout(this.gathering);
    this.gathering = undefined;
    const batch = this.pending;
    const lines = this.pendingLines;
    this.pending = '';
    this.pendingLines = 0;
    if (batch === '') return;
    // Buffer mode: sonic-boom then neither re-measures nor re-encodes the text it was given.
    if (this.healthy) (this.dest.write as unknown as (chunk: Buffer) => boolean)(Buffer.from(batch));
    else this.dropped += lines;
  };

  /** An exit without stop() (a crash, process.exit) still writes what was gathered. */
  private readonly flushAtExit = (): void => {
    if (this.pending === '' || !this.healthy || this.closed) return;
    try {
      this.flushPending();
      this.dest.flushSync();
    } catch {
      // Exiting anyway; the file may not be open yet.
    }
  };

  /** logrotate's postrotate: reopen the file at its path; recovers a failed destination too. */
  reopen(): void {
    if (this.options.filePath === undefined || this.closed) return;
    if (!this.healthy) {
      this.options.log.info({ filePath: this.options.filePath, dropped: this.dropped }, `access log: reopening ${this.options.filePath} after a write failure (${this.dropped} lines dropped)`);
      this.dest = this.open();
      this.healthy = true;
      this.dropped = 0;
      return;
    }
    try {
      this.dest.reopen();
    } catch (err) {
      this.fail(this.dest, err);
    }
  }

  /** Writes what is buffered and closes the file (stdout stays open). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flushPending();
    this.closed = true;
    process.off('exit', this.flushAtExit);
    const dest = this.dest;
    if (!this.healthy || state(dest).destroyed) return;
    await new Promise<void>((resolve) => {
      dest.once('close', resolve);
      dest.once('error', () => resolve());
      dest.end();
    });
  }

  private open(): Destination {
    const { filePath, bufferingSize } = this.options;
    const minLength = Math.min(bufferingSize * BYTES_PER_LINE, MAX_MIN_LENGTH);
    const dest = pino.destination({
      ...(filePath === undefined ? { fd: 1 } : { dest: filePath, mkdir: true, append: true }),
      sync: false,
      contentMode: 'buffer',
      minLength,
      maxLength: MAX_PENDING_BYTES,
      ...(minLength > 0 ? { periodicFlush: BUFFER_FLUSH_MS } : {}),
    });
    dest.on('error', (err: unknown) => this.fail(dest, err));
    dest.on('drop', () => this.reportSlow());
    return dest;
  }

  private fail(dest: Destination, err: unknown): void {
    if (dest !== this.dest || !this.healthy) return;
    this.healthy = false;
    // Gathered lines share the failed destination's fate: counted as dropped, so a reopen starts afresh.
    this.dropped += this.pendingLines;
    this.pending = '';
    this.pendingLines = 0;
    const where = this.options.filePath ?? 'stdout';
    this.options.log.error(
      { err, filePath: where },
      `access log: cannot write to ${where}: ${messageOf(err)}; lines are dropped until SIGUSR1 reopens it, serving continues`,
    );
    // pino flushes its destinations at exit; a dead one must not throw there (pino does the same on EPIPE).
    const noop = () => undefined;
    Object.assign(dest, { flush: noop, flushSync: noop, end: noop });
    // An fd that never opened has nothing to release (and destroy() would wait for it forever).
    if (state(dest).fd >= 0 && !state(dest).destroyed) dest.destroy();
  }

  private reportSlow(): void {
    if (this.slowReported) return;
    this.slowReported = true;
    this.options.log.warn({ filePath: this.options.filePath ?? 'stdout' }, 'access log: the destination is slower than the traffic; lines are being dropped');
  }
}
