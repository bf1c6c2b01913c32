// One timer for many pending calls that share a bound, instead of a setTimeout per call on the request path.
import { performance } from 'node:perf_hooks';

export interface Deadline {
  readonly at: number;
  /** Runs when the deadline passes unsettled; undefined once settled or expired. */
  expire: (() => void) | undefined;
}

/**
 * Deadlines of calls made with the same bound, so in call order: a queue, and one timer for its oldest
 * pending call (rearmed when it fires early because that call was answered). The timer holds the process
 * open while calls are pending, as their own timers would. (Lowering the bound at run time would let a
 * newer call wait for an older one's deadline: keep it fixed per owner.)
 */
export class Deadlines {
  private queue: Deadline[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly timeoutMs: () => number) {}

  /** Calls `expire` once timeoutMs have passed, unless `settle` comes first. */
  add(expire: () => void): Deadline {
    const deadline: Deadline = { at: performance.now() + this.timeoutMs(), expire };
    this.queue.push(deadline);
    if (this.timer === undefined) this.arm(deadline.at);
    return deadline;
  }

  /** The call was answered: its deadline no longer matters. */
  settle(deadline: Deadline): void {
    // Already expired (an expire handler may settle its own call) or settled: nothing to do.
    if (deadline.expire === undefined) return;
    deadline.expire = undefined;
    const { queue } = this;
    while (this.head < queue.length && queue[this.head]!.expire === undefined) this.head++;
    if (this.head === queue.length) {
      this.queue = [];
      this.head = 0;
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.timer = undefined;
    } else if (this.head > 1024 && this.head * 2 > queue.length) {
      this.queue = queue.slice(this.head);
      this.head = 0;
    }
  }

  private arm(at: number): void {
    this.timer = setTimeout(this.fire, Math.max(0, at - performance.now()));
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    const now = performance.now();
    // this.queue and this.head are read afresh each turn: an expire handler may settle or add calls.
    for (let deadline = this.queue[this.head]; deadline !== undefined; deadline = this.queue[this.head]) {
      const expire = deadline.expire;
      if (expire !== undefined && deadline.at > now) break;
      deadline.expire = undefined;
      this.head++;
      expire?.();
    }
    if (this.head < this.queue.length) {
      if (this.timer === undefined) this.arm(this.queue[this.head]!.at);
    } else {
      this.queue = [];
      this.head = 0;
    }
  };
}
