// A body held in full before it is passed on: in memory up to a threshold, beyond it in a temporary file (oxy's
// multibuf), so that memory stays bounded however many large bodies are in flight. Used for requests and responses.
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { ReplayableBody } from '@wharf/core';

/** What spools hold in this process right now: bytes in memory and temporary files. For tests and diagnostics. */
export const held = { memoryBytes: 0, files: 0 };

let spillDir: Promise<string> | undefined;
let fileCount = 0;

/**
 * This process's folder for spilled bodies, made on first use: private (0700, random suffix) and named after the
 * pid, so that gateways on one machine never share it.
 */
export function spillDirectory(): Promise<string> {
  spillDir ??= mkdtemp(join(tmpdir(), `wharf-buffering-${process.pid}-`));
  return spillDir;
}

/**
 * Collects a body chunk by chunk, then gives it back whole (`open`, as many times as needed) until `release`.
 * Past `memBytes` every byte, those already held included, goes to a file; appends are then asynchronous and
 * the caller waits for each before the next, which is its backpressure.
 */
export class Spool implements ReplayableBody {
  private chunks: Buffer[] = [];
  private inMemory = 0;
  private memory: Buffer | undefined;
  private file: FileHandle | undefined;
  private path: string | undefined;
  private spilled = false;
  private released = false;
  /** File work in order: open, then each write, then close. */
  private work: Promise<void> = Promise.resolve();
  length = 0;

  constructor(private readonly memBytes: number) {}

  /** Adds a chunk; a promise when it goes to the file (wait for it before the next append), else undefined. */
  append(chunk: Buffer): Promise<void> | undefined {
    // undici hands over empty chunks when it resumes a paused body: asking it to wait for those would pause it forever.
    if (chunk.length === 0) return undefined;
    this.length += chunk.length;
    if (!this.spilled && this.length <= this.memBytes) {
      this.chunks.push(chunk);
      this.inMemory += chunk.length;
      held.memoryBytes += chunk.length;
      return undefined;
    }
    const pending = this.spilled ? [chunk] : this.spill(chunk);
    this.work = this.work.then(() => this.writeAll(pending));
    return this.work;
  }

  /** After the last append: the body can be opened once this resolves. */
  seal(): Promise<void> {
    if (!this.spilled) {
      this.memory = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.inMemory);
      this.chunks = [];
      return Promise.resolve();
    }
    this.work = this.work.then(() => this.closeFile());
    return this.work;
  }

  open(): Buffer | Readable {
    if (this.path !== undefined) return createReadStream(this.path);
    return this.memory ?? Buffer.alloc(0);
  }

  /** Frees the memory and removes the file, once: a reader that opened it keeps reading (POSIX unlink). */
  release(): Promise<void> {
    if (this.released) return Promise.resolve();
    this.released = true;
    held.memoryBytes -= this.inMemory;
    this.inMemory = 0;
    this.chunks = [];
    this.memory = undefined;
    if (!this.spilled) return Promise.resolve();
    // After any write in progress, so that a file being opened is removed too.
    return this.work.catch(() => undefined).then(() => this.removeFile());
  }

  private spill(chunk: Buffer): Buffer[] {
    this.spilled = true;
    const pending = this.chunks;
    pending.push(chunk);
    this.chunks = [];
    held.memoryBytes -= this.inMemory;
    this.inMemory = 0;
    const name = String(++fileCount);
    this.work = this.work.then(async () => {
      if (this.released) return;
      const path = join(await spillDirectory(), name);
      this.file = await open(path, 'wx', 0o600);
      this.path = path;
      held.files++;
    });
    return pending;
  }

  private async writeAll(chunks: readonly Buffer[]): Promise<void> {
    for (const chunk of chunks) {
      if (this.released || this.file === undefined) return;
      await this.file.write(chunk);
    }
  }

  private async closeFile(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    await file?.close();
  }

  private async removeFile(): Promise<void> {
    try {
      await this.closeFile();
    } finally {
      if (this.path !== undefined) {
        const path = this.path;
        this.path = undefined;
        held.files--;
        await rm(path, { force: true });
      }
    }
  }
}
