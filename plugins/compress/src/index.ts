// compress: compresses responses with gzip or brotli (zstd where node:zlib has it) for clients that accept it —
// Traefik 3.7's compress middleware: its options, its Accept-Encoding negotiation, gzhttp's rules on what to
// compress, streaming with backpressure (no whole-body buffering).
import { definePlugin, wrapResponse, type Logger, type Next, type PluginContext, type WharfContext } from '@wharf/core';
import { encoderFactory, ZSTD_AVAILABLE } from './encoders.js';
import { contentTypeFilter, parseMediaType, requestTypeFilter } from './mediatype.js';
import { ENCODINGS, Negotiator, type Encoding } from './negotiate.js';
import { schema, validate, type CompressConfig } from './schema.js';
import { CompressingWriter, type CompressionPlan } from './writer.js';

export { schema, validate, type CompressConfig } from './schema.js';
export { Negotiator, type Choice, type Encoding } from './negotiate.js';
export { GZIP_LEVEL, BROTLI_QUALITY, ZSTD_AVAILABLE } from './encoders.js';

/** Traefik's default when minResponseBodyBytes is 0 (gzhttp's DefaultMinSize). */
const DEFAULT_MIN_SIZE = 1024;

const ZSTD_MISSING = `zstd is not in this runtime's node:zlib (Node ${process.versions.node}; it has zstd from 22.15)`;

/** `encodings` this runtime can serve, with a warning when zstd was asked for explicitly and is missing. */
export function usableEncodings(options: CompressConfig, log: Pick<Logger, 'warn'>): { encodings: Encoding[]; defaultEncoding?: Encoding } {
  const listed = options.encodings.map((e) => e.toLowerCase() as Encoding);
  const encodings = listed.filter((e) => e !== 'zstd' || ZSTD_AVAILABLE);
  // The default list (gzip, br, zstd) drops zstd quietly: that is documented. A list the user wrote does not.
  const isDefault = listed.length === ENCODINGS.length && listed.every((e, i) => e === ENCODINGS[i]);
  if (encodings.length < listed.length && !isDefault) {
    log.warn(
      encodings.length > 0
        ? `encodings: ${ZSTD_MISSING}, so it is left out and clients that accept only zstd get uncompressed responses`
        : `encodings: ${ZSTD_MISSING} and it is the only encoding listed, so this middleware compresses nothing; add gzip or br`,
    );
  }
  let defaultEncoding = options.defaultEncoding ? (options.defaultEncoding.toLowerCase() as Encoding) : undefined;
  if (defaultEncoding === 'zstd' && !ZSTD_AVAILABLE) {
    log.warn(`defaultEncoding: ${ZSTD_MISSING}, so there is no default encoding: requests without Accept-Encoding are not compressed`);
    defaultEncoding = undefined;
  }
  return { encodings, defaultEncoding };
}

function plansFor(encodings: readonly Encoding[], options: CompressConfig): Map<string, CompressionPlan> {
  const excluded = (options.excludedContentTypes ?? []).map((t) => parseMediaType(t, 'excludedContentTypes'));
  const included = (options.includedContentTypes ?? []).map((t) => parseMediaType(t, 'includedContentTypes'));
  const compressible = contentTypeFilter(excluded, included);
  const minSize = options.minResponseBodyBytes > 0 ? options.minResponseBodyBytes : DEFAULT_MIN_SIZE;
  const plans = new Map<string, CompressionPlan>();
  for (const encoding of encodings) plans.set(encoding, { encoding, newEncoder: encoderFactory(encoding)!, minSize, compressible });
  return plans;
}

function passThrough(_ctx: WharfContext, next: Next): Promise<void> {
  return next();
}

export function createCompress(options: CompressConfig, context: Pick<PluginContext, 'log'>) {
  const { encodings, defaultEncoding } = usableEncodings(options, context.log);
  if (encodings.length === 0) return passThrough;
  const negotiator = new Negotiator(encodings, defaultEncoding);
  const plans = plansFor(encodings, options);
  const requestExcluded = requestTypeFilter((options.excludedContentTypes ?? []).map((t) => parseMediaType(t, 'excludedContentTypes')));
  return async function compress(ctx: WharfContext, next: Next): Promise<void> {
    // Traefik passes HEAD through (no body to encode) and requests whose own Content-Type is excluded.
    if (ctx.method === 'HEAD' || requestExcluded(ctx.req.headers['content-type'])) return next();
    const plan = plans.get(negotiator.negotiate(ctx.req.headers['accept-encoding']));
    if (plan === undefined) return next(); // identity, nothing acceptable, or no header and no defaultEncoding
    wrapResponse(ctx, (inner) => {
      const writer = new CompressingWriter(inner, plan);
      ctx.res.once('close', () => writer.dispose());
      return writer;
    });
    return next();
  };
}

export default definePlugin({
  name: 'compress',
  description: 'Compress responses (gzip, brotli; zstd where node:zlib has it) for clients that accept it.',
  schema,
  validate,
  create: createCompress,
});
