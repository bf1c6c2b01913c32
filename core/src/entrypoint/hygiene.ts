// Request checks a gateway must make before any routing or plugin code runs (issue: hardening).
// Node's parser already rejects CL+TE, differing or duplicate Content-Length, obs-fold, bare LF and
// control characters; these cover what it lets through.
import type { IncomingMessage } from 'node:http';

export interface EncodedCharacters {
  allowEncodedSlash: boolean;
  allowEncodedBackSlash: boolean;
  allowEncodedNullCharacter: boolean;
  allowEncodedSemicolon: boolean;
  allowEncodedPercent: boolean;
  allowEncodedQuestionMark: boolean;
  allowEncodedHash: boolean;
}

export interface Rejection {
  status: number;
  reason: string;
}

const ENCODED: ReadonlyArray<[keyof EncodedCharacters, RegExp, string]> = [
  ['allowEncodedSlash', /%2f/i, 'an encoded slash (%2F)'],
  ['allowEncodedBackSlash', /%5c/i, 'an encoded backslash (%5C)'],
  ['allowEncodedNullCharacter', /%00/, 'an encoded NUL (%00)'],
  ['allowEncodedSemicolon', /%3b/i, 'an encoded semicolon (%3B)'],
  ['allowEncodedPercent', /%25/, 'an encoded percent sign (%25)'],
  ['allowEncodedQuestionMark', /%3f/i, 'an encoded question mark (%3F)'],
  ['allowEncodedHash', /%23/, 'an encoded hash (%23)'],
];

/** Compiles the entrypoint's encodedCharacters switches into one check of the raw path. */
export function encodedCharacterCheck(config: EncodedCharacters): (rawPath: string) => string | undefined {
  const denied = ENCODED.filter(([key]) => !config[key]);
  if (denied.length === 0) return () => undefined;
  return (rawPath) => {
    if (!rawPath.includes('%')) return undefined;
    for (const [, pattern, what] of denied) if (pattern.test(rawPath)) return what;
    return undefined;
  };
}

/**
 * Framing and Host problems Node accepts but a proxy must not pass on: a Transfer-Encoding other than
 * exactly `chunked` (RFC 9112 §6.3: such a request has no reliable length), and more than one Host (§3.2).
 */
export function framingProblem(req: IncomingMessage): Rejection | undefined {
  const te = req.headers['transfer-encoding'];
  if (te !== undefined && te.trim().toLowerCase() !== 'chunked') {
    return { status: 400, reason: `unsupported Transfer-Encoding "${te}"` };
  }
  if (hostLines(req.rawHeaders) > 1) return { status: 400, reason: 'more than one Host header' };
  return undefined;
}

/** Host header lines, counted on rawHeaders: req.headersDistinct would copy every header of every request. */
function hostLines(raw: string[]): number {
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4 && name.toLowerCase() === 'host') count++;
  }
  return count;
}
