// Until core's response-writer seam lands: the interface as announced (replaced by the import from @wharf/core).
import type { OutgoingHttpHeaders } from 'node:http';

export interface ResponseWriter {
  readonly headersSent: boolean;
  writeHead(status: number, headers: OutgoingHttpHeaders): void;
  write(chunk: Buffer): boolean;
  end(trailers?: OutgoingHttpHeaders): void;
  abort(error: Error): void;
  onceDrain(callback: () => void): void;
}

/** Placeholder for core's wrapResponse until the seam is merged. */
export function wrapResponse(_ctx: unknown, _wrap: (inner: ResponseWriter) => ResponseWriter): void {
  throw new Error('compress: the response-writer seam is not in this core yet');
}
