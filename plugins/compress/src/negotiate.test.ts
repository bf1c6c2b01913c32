// Accept-Encoding negotiation: Traefik 3.7's cases (acceptencoding_test.go, compress_test.go TestNegotiation) and
// the few places where Wharf reads the header more leniently.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Negotiator, type Choice, type Encoding } from './negotiate.js';

const ALL: Encoding[] = ['gzip', 'br', 'zstd'];

interface Case {
  desc: string;
  header: string | undefined;
  encodings?: Encoding[];
  defaultEncoding?: Encoding;
  expected: Choice;
}

const TRAEFIK: Case[] = [
  { desc: 'empty Accept-Encoding', header: '', expected: 'identity' },
  { desc: 'gzip > br (no weight)', header: 'gzip, br', expected: 'gzip' },
  { desc: 'gzip > br > zstd (no weight)', header: 'gzip, br, zstd', expected: 'gzip' },
  { desc: 'known compression encoding (no weight)', header: 'compress, gzip', expected: 'gzip' },
  { desc: 'unknown compression encoding (no weight), no encoding', header: 'compress, rar', expected: 'not_acceptable' },
  { desc: 'wildcard returns the default compression encoding', header: '*', expected: 'gzip' },
  { desc: 'wildcard returns the custom default compression encoding', header: '*', defaultEncoding: 'br', expected: 'br' },
  { desc: 'follows weight', header: 'br;q=0.8, gzip;q=1.0, *;q=0.1', expected: 'gzip' },
  { desc: 'identity with higher weight is preferred', header: 'br;q=0.8, identity;q=1.0', expected: 'identity' },
  { desc: 'identity with equal weight is not preferred', header: 'br;q=0.8, identity;q=0.8', expected: 'br' },
  { desc: 'ignore unknown compression encoding', header: 'compress;q=1.0, gzip;q=0.5', expected: 'gzip' },
  { desc: 'fallback on non-zero compression encoding', header: 'compress;q=1.0, gzip, identity;q=0', expected: 'gzip' },
  { desc: 'not acceptable (identity)', header: 'compress;q=1.0, identity;q=0', expected: 'not_acceptable' },
  { desc: 'not acceptable (wildcard)', header: 'compress;q=1.0, *;q=0', expected: 'not_acceptable' },
  { desc: 'non-zero is higher than 0', header: 'gzip, *;q=0', expected: 'gzip' },
  { desc: 'zstd forbidden, brotli first', header: 'zstd, gzip, br', encodings: ['br', 'gzip'], expected: 'br' },
  { desc: 'follows weight, ignores forbidden encoding', header: 'br;q=0.8, gzip;q=1.0, *;q=0.1', encodings: ['zstd', 'br'], expected: 'br' },
  { desc: 'mixed weight', header: 'gzip, br;q=0.9', encodings: ['gzip', 'br'], expected: 'gzip' },
  { desc: 'zero weights, no compression', header: 'br;q=0, gzip;q=0, zstd;q=0', expected: 'not_acceptable' },
  { desc: 'zero weights, default encoding, no compression', header: 'br;q=0, gzip;q=0, zstd;q=0', defaultEncoding: 'br', expected: 'not_acceptable' },
  { desc: 'same weight, first supported encoding', header: 'br;q=1.0, gzip;q=1.0, zstd;q=1.0', expected: 'gzip' },
  { desc: 'same weight, order in the header has no effect', header: 'br;q=1.0, zstd;q=1.0, gzip;q=1.0', expected: 'gzip' },
  { desc: 'same weight, defaultEncoding has no effect', header: 'br;q=1.0, zstd;q=1.0, gzip;q=1.0', defaultEncoding: 'br', expected: 'gzip' },
  // TestNegotiation
  { desc: 'no accept header', header: undefined, expected: 'identity' },
  { desc: 'unsupported accept header', header: 'notreal', expected: 'not_acceptable' },
  { desc: 'br accept header', header: 'br', expected: 'br' },
  { desc: 'multi accept header, prefer br', header: 'br;q=0.8, gzip;q=0.6', expected: 'br' },
  { desc: 'multi accept header, prefer gzip', header: 'gzip;q=1.0, br;q=0.8', expected: 'gzip' },
  { desc: 'zstd accept header', header: 'zstd', expected: 'zstd' },
  { desc: 'multi accept header, prefer zstd', header: 'zstd;q=0.9, br;q=0.8, gzip;q=0.6', expected: 'zstd' },
  { desc: 'multi accept header, prefer brotli', header: 'gzip;q=0.8, br;q=1.0, zstd;q=0.7', expected: 'br' },
];

const FROM_DOCS_AND_SOURCE: Case[] = [
  { desc: 'no Accept-Encoding with defaultEncoding: the default', header: undefined, defaultEncoding: 'br', expected: 'br' },
  { desc: 'a wildcard wins a tie against a listed encoding (it ranks first)', header: 'br, *', defaultEncoding: 'gzip', expected: 'gzip' },
  { desc: 'the encodings order breaks ties, not the header order', header: 'br, gzip', encodings: ['br', 'gzip'], expected: 'br' },
  { desc: 'a q-value above 1 is taken as it is', header: 'gzip, br;q=2', expected: 'br' },
  { desc: 'a parameter other than q leaves the weight at 1', header: 'br;level=1, gzip;q=0.5', expected: 'br' },
  { desc: 'an unreadable q-value refuses the entry', header: 'br;q=high, gzip;q=0.5', expected: 'gzip' },
  { desc: 'the same encoding twice: the heavier counts', header: 'gzip;q=0.1, br;q=0.5, gzip', expected: 'gzip' },
  { desc: 'only identity: not compressed', header: 'identity', expected: 'identity' },
  { desc: 'an encoding not offered is not acceptable', header: 'zstd', encodings: ['gzip'], expected: 'not_acceptable' },
  { desc: 'spaces and tabs anywhere are ignored', header: ' gzip ; q=0.2 ,\tbr;q = 0.4', expected: 'br' },
  { desc: 'Wharf: coding names are case-insensitive (RFC 9110)', header: 'GZip;Q=0.5, BR', expected: 'br' },
];

describe('Accept-Encoding negotiation', () => {
  for (const { desc, header, encodings, defaultEncoding, expected } of [...TRAEFIK, ...FROM_DOCS_AND_SOURCE]) {
    test(desc, () => {
      const negotiator = new Negotiator(encodings ?? ALL, defaultEncoding);
      assert.equal(negotiator.negotiate(header), expected);
      assert.equal(negotiator.negotiate(header), expected, 'the remembered choice');
    });
  }
});
