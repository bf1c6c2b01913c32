// Options of compress: Traefik 3.7's names and defaults (pkg/config/dynamic Compress), checked in validate.
import { StringList, Type, type Static } from '@wharf/core';
import { parseMediaType } from './mediatype.js';
import { ENCODINGS, isEncoding } from './negotiate.js';

export const schema = Type.Object(
  {
    encodings: StringList({
      default: ['gzip', 'br', 'zstd'],
      description:
        'Encodings offered, highest priority first (breaks ties between equal q-values): `gzip`, `br`, `zstd`. ' +
        'zstd only where node:zlib has it (not Node 20): there it is left out, with a warning when listed explicitly.',
    }),
    excludedContentTypes: Type.Optional(
      StringList({ description: 'Response media types never compressed (also requests with such a Content-Type); `application/grpc` always is. Excludes includedContentTypes.' }),
    ),
    includedContentTypes: Type.Optional(StringList({ description: 'Only responses of these media types are compressed. Excludes excludedContentTypes.' })),
    minResponseBodyBytes: Type.Integer({
      minimum: 0,
      default: 1024,
      description: 'Smaller bodies are sent as they are (bytes, default 1024; 0 means the default, as in Traefik: use 1 to compress everything).',
    }),
    defaultEncoding: Type.Optional(
      Type.String({ description: 'Encoding used when the request has no Accept-Encoding, and for `*`; one of `encodings` (default: none without Accept-Encoding, the first of `encodings` for `*`).' }),
    ),
  },
  { additionalProperties: false },
);

export type CompressConfig = Static<typeof schema>;

/** Cross-field checks, with Traefik's rules and the field named first. */
export function validate(options: CompressConfig): void {
  if (options.excludedContentTypes?.length && options.includedContentTypes?.length) {
    throw new Error('excludedContentTypes and includedContentTypes: they are mutually exclusive (as in Traefik), set only one');
  }
  for (const field of ['excludedContentTypes', 'includedContentTypes'] as const) {
    for (const value of options[field] ?? []) parseMediaType(value, field);
  }
  if (options.encodings.length === 0) throw new Error(`encodings: at least one encoding must be specified (${ENCODINGS.join(', ')})`);
  for (const encoding of options.encodings) {
    if (!isEncoding(encoding.toLowerCase())) throw new Error(`encodings: unsupported encoding, got "${encoding}" (supported: ${ENCODINGS.join(', ')})`);
  }
  const defaultEncoding = options.defaultEncoding;
  if (defaultEncoding !== undefined && defaultEncoding !== '' && !options.encodings.some((e) => e.toLowerCase() === defaultEncoding.toLowerCase())) {
    throw new Error(`defaultEncoding: must be one of encodings (${options.encodings.join(', ')}), got "${defaultEncoding}"`);
  }
}
