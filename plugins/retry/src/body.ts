// Reads a request body of at most `limit` bytes in full, so that a retry can send it again.
import type { IncomingMessage } from 'node:http';
import type { ReplayableBody } from '@wharf/core';

/**
 * The whole body as a ReplayableBody; 'too large' when it has more than `limit` bytes (-1 = no limit), in
 * which case what was read is pushed back into the stream, untouched for the proxy; 'gone' when the client
 * left mid-body. A Content-Length over the limit is 'too large' before anything is read.
 */
export function readSmallBody(req: IncomingMessage, limit: number): Promise<ReplayableBody | 'too large' | 'gone'> {
  if (limit >= 0 && Number(req.headers['content-length'] ?? 0) > limit) return Promise.resolve('too large');
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (result: ReplayableBody | 'too large' | 'gone'): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.off('error', onClose);
      resolve(result);
    };
    function onData(chunk: Buffer): void {
      size += chunk.length;
      chunks.push(chunk);
      if (limit >= 0 && size > limit) {
        req.pause();
        done('too large');
        // Back in front of the bytes still to come: the proxy streams the body as the client sent it.
        req.unshift(Buffer.concat(chunks, size));
      }
    }
    function onEnd(): void {
      const body = Buffer.concat(chunks, size);
      done({ length: size, open: () => body });
    }
    function onClose(): void {
      done('gone');
    }
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
    req.on('error', onClose);
  });
}
