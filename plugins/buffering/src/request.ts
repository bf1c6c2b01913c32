// Reads a whole request body into a Spool before it goes upstream, enforcing maxRequestBodyBytes as it arrives.
import type { IncomingMessage } from 'node:http';
import { Spool } from './spool.js';

export type HoldResult = Spool | 'too large' | 'gone';

/**
 * Reads the whole body. 'too large' as soon as more than maxBytes (0 = no limit) arrived: the listeners are
 * removed and the rest left unread for the caller to discard. 'gone' when the client left mid-body or the
 * temporary file could not be written. Only a returned Spool holds anything; the caller releases it.
 */
export function holdRequestBody(req: IncomingMessage, maxBytes: number, memBytes: number): Promise<HoldResult> {
  return new Promise((resolve) => {
    const spool = new Spool(memBytes);
    let done = false;
    let writing: Promise<void> | undefined;

    const finish = (result: HoldResult): void => {
      if (done) return;
      done = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.off('error', onClose);
      if (result !== spool) void spool.release().catch(() => undefined);
      resolve(result);
    };
    function onData(chunk: Buffer): void {
      if (maxBytes > 0 && spool.length + chunk.length > maxBytes) {
        finish('too large');
        return;
      }
      const write = spool.append(chunk);
      if (write === undefined) return;
      // Going to disk: no more bytes from the client until this chunk is written.
      req.pause();
      writing = write.then(
        () => {
          if (!done) req.resume();
        },
        () => finish('gone'),
      );
    }
    function onEnd(): void {
      void (writing ?? Promise.resolve())
        .then(() => spool.seal())
        .then(
          () => finish(spool),
          () => finish('gone'),
        );
    }
    function onClose(): void {
      if (!req.complete) finish('gone');
    }
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
    req.on('error', onClose);
  });
}
