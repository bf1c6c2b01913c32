// Graceful shutdown on SIGTERM/SIGINT.
import { messageOf } from '../errors.js';
import type { Gateway } from '../gateway.js';
import type { Logger } from '../log.js';

/**
 * SIGTERM/SIGINT: drain gracefully; a second signal exits at once. Install it before `start()` and pass the
 * start promise: a signal that arrives while the gateway is starting (it may already be listening) then
 * drains once start-up settles, instead of killing the process with the default action.
 */
export function stopOnSignal(gateway: Gateway, log: Logger, started: Promise<unknown> = Promise.resolve()): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) process.exit(1);
      stopping = true;
      log.info(`${signal} received: draining (graceTimeOut per entrypoint), send again to exit at once`);
      started
        .catch(() => undefined)
        .then(() => gateway.stop())
        .then(
          () => {
            log.info('stopped');
            resolve();
          },
          (err: unknown) => {
            log.error(`shutdown failed: ${messageOf(err)}`);
            resolve();
          },
        );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/**
 * SIGUSR1 is logrotate's "reopen your files" (the access log listens for it). A process with no listener
 * would take Node's default action, which opens the inspector on 127.0.0.1:9229: a gateway claims the
 * signal for as long as it runs, with `listener` or none.
 */
export function onReopenSignal(listener: () => void = () => undefined): void {
  process.on('SIGUSR1', listener);
}

/** Delivers a reopen to this process's SIGUSR1 listeners, as if the signal had been sent to it. */
export function raiseReopenSignal(): void {
  process.emit('SIGUSR1', 'SIGUSR1');
}
