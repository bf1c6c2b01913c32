// The node:zlib streams behind each encoding, their levels, and which encodings this runtime has.
import type { Transform } from 'node:stream';
import zlib from 'node:zlib';
import type { Encoding } from './negotiate.js';

/**
 * Levels (test/bench/compress-levels.js measures them). Traefik has no level option: gzip runs klauspost's level 5
 * (klauspost's own encoder, not zlib's), brotli andybalholm's quality 6, zstd klauspost's default.
 * With node:zlib on 100 KiB of JSON and of JavaScript (CPU per KiB, relative, busy machine): gzip 1 / 4 / 6 / 9
 * cost about 1 / 1.4-2.2 / 2.1-3.7 / 3.8-7.5, and level 4 is within 4 % of level 6's size. Brotli 3 costs less
 * than gzip 4 and is smaller on JSON (9.3 % of the original against 13.0 %), about as small on JavaScript; brotli 4
 * costs half as much again (and 40 % more memory) for at most 3 % less, 5-6 2.3 to 3.4 times as much for 10-17 %
 * less; node's default quality, 11, costs about 300 times gzip 4 (about 1 MiB/s): never for live responses.
 */
export const GZIP_LEVEL = 4;
export const BROTLI_QUALITY = 3;
/** zstd's own default level (3): fast and better than gzip, where the runtime has it. */
export const ZSTD_LEVEL = 3;

type ZstdFactory = (options: { flush?: number; params?: Record<number, number> }) => Transform;

/** node:zlib has zstd from Node 22.15 / 23.8; Node 20 has none. */
const createZstd = (zlib as unknown as { createZstdCompress?: ZstdFactory }).createZstdCompress;
const zstdConstants = zlib.constants as unknown as { ZSTD_e_flush?: number; ZSTD_c_compressionLevel?: number };

export const ZSTD_AVAILABLE = typeof createZstd === 'function';

/**
 * Makes an encoder. `streamed`: flush after every write, so each chunk the service sent reaches the client at once.
 * `length`: the body's size when known (Content-Length), which lets brotli size its window to the body.
 */
export type EncoderFactory = (streamed: boolean, length?: number) => Transform;

/** zlib's window (2^9 to 2^15 bytes) and hash memory level (1 to 8, default 8). */
const GZIP_MIN_BITS = 9;
const GZIP_MAX_BITS = 15;
const GZIP_MEM_LEVEL = 8;

/**
 * nginx's rule: a body of known length smaller than half the window gets a smaller window and hash (one memory
 * level less per halving), the same output for less memory, e.g. about 1/8 of it for a 4 KiB answer.
 */
function gzipBits(length: number | undefined): number {
  let bits = GZIP_MAX_BITS;
  if (length === undefined) return bits;
  while (bits > GZIP_MIN_BITS && length < 2 ** (bits - 1)) bits--;
  return bits;
}

function gzipFactory(): EncoderFactory {
  const byBits = new Map<number, { plain: zlib.ZlibOptions; flushing: zlib.ZlibOptions }>();
  for (let bits = GZIP_MIN_BITS; bits <= GZIP_MAX_BITS; bits++) {
    const options = { level: GZIP_LEVEL, windowBits: bits, memLevel: Math.max(1, GZIP_MEM_LEVEL - (GZIP_MAX_BITS - bits)) };
    byBits.set(bits, { plain: options, flushing: { ...options, flush: zlib.constants.Z_SYNC_FLUSH } });
  }
  return (streamed, length) => {
    const options = byBits.get(gzipBits(length))!;
    return zlib.createGzip(streamed ? options.flushing : options.plain);
  };
}

/** Brotli's window bits (LGWIN): 2^16 to 2^22 (its default) bytes. */
const MIN_WINDOW_BITS = 16;
const MAX_WINDOW_BITS = 22;

/** The smallest window holding the whole body: the same output, and less memory (with 10 concurrent 100 KiB bodies, less CPU too). */
function windowBits(length: number | undefined): number {
  if (length === undefined) return MAX_WINDOW_BITS;
  return Math.min(MAX_WINDOW_BITS, Math.max(MIN_WINDOW_BITS, Math.ceil(Math.log2(length))));
}

function brotliFactory(): EncoderFactory {
  const { BROTLI_PARAM_QUALITY, BROTLI_PARAM_LGWIN, BROTLI_OPERATION_FLUSH } = zlib.constants;
  // Option objects built once per window size, not per response.
  const byBits = new Map<number, { plain: zlib.BrotliOptions; flushing: zlib.BrotliOptions }>();
  for (let bits = MIN_WINDOW_BITS; bits <= MAX_WINDOW_BITS; bits++) {
    const params = { [BROTLI_PARAM_QUALITY]: BROTLI_QUALITY, [BROTLI_PARAM_LGWIN]: bits };
    byBits.set(bits, { plain: { params }, flushing: { params, flush: BROTLI_OPERATION_FLUSH } });
  }
  return (streamed, length) => {
    const options = byBits.get(windowBits(length))!;
    return zlib.createBrotliCompress(streamed ? options.flushing : options.plain);
  };
}

function zstdFactory(create: ZstdFactory): EncoderFactory {
  const params = { [zstdConstants.ZSTD_c_compressionLevel ?? 100]: ZSTD_LEVEL };
  const plain = { params };
  const flushing = { params, flush: zstdConstants.ZSTD_e_flush ?? 1 };
  return (streamed) => create(streamed ? flushing : plain);
}

/** The factory for an encoding; undefined for zstd where the runtime has none. */
export function encoderFactory(encoding: Encoding): EncoderFactory | undefined {
  switch (encoding) {
    case 'gzip':
      return gzipFactory();
    case 'br':
      return brotliFactory();
    case 'zstd':
      return createZstd ? zstdFactory(createZstd) : undefined;
  }
}
