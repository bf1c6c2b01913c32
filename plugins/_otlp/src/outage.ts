// One report per collector outage on the gateway log (and one when it is back), with what was dropped meanwhile:
// an export failing every few seconds must not flood the log (which may itself be exported).
import { messageOf, type Logger } from '@wharf/core';

export class OutageReport {
  private down = false;
  /** After the pipeline stopped: a late retry's failure is no news (the gateway may have exited its log). */
  private closed = false;
  private droppedSinceReport = 0;
  /** Items (metric pushes, log records) lost since start: bounded queues drop rather than grow. */
  dropped = 0;

  constructor(
    private readonly log: Logger,
    /** e.g. `metrics.otlp (http://collector:4318/v1/metrics)`. */
    private readonly what: string,
    /** e.g. `log records`. */
    private readonly unit: string,
  ) {}

  /** An export failed (err) or items were refused because the queue is full (no err). */
  drop(count: number, err?: unknown): void {
    this.dropped += count;
    this.droppedSinceReport += count;
    if (this.down || this.closed) return;
    this.down = true;
    const reason = err === undefined ? 'the export queue is full' : messageOf(err);
    this.log.warn({ dropped: this.dropped }, `${this.what}: cannot export (${reason}); ${this.unit} are dropped until the collector answers, serving continues`);
  }

  /** An export went through. */
  recovered(): void {
    if (!this.down || this.closed) return;
    this.down = false;
    this.log.info({ dropped: this.droppedSinceReport }, `${this.what}: exporting again; ${this.droppedSinceReport} ${this.unit} were dropped meanwhile`);
    this.droppedSinceReport = 0;
  }

  /** The pipeline stopped: report nothing more. */
  close(): void {
    this.closed = true;
  }
}

/** Stopping waits for a last export at most this long: a collector that is down must not hold the gateway's exit. */
export const SHUTDOWN_LIMIT_MS = 2000;

/** `work`, or nothing once `limitMs` passed (its errors are the outage report's business, not the stop's). */
export function bounded(work: Promise<unknown>, limitMs = SHUTDOWN_LIMIT_MS): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, limitMs);
    timer.unref();
    work.then(
      () => resolve(),
      () => resolve(),
    ).finally(() => clearTimeout(timer));
  });
}
