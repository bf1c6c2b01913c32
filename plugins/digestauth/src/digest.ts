// RFC 2617 / 7616 Digest with MD5 and qop=auth, as go-http-auth's DigestAuth (which Traefik uses): one opaque per
// middleware, a bounded table of issued nonces with the last nonce count seen, constant-time response checks.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Nonces kept per middleware; past NONCE_LIMIT + NONCE_TOLERANCE the 2 × NONCE_TOLERANCE least recently used go. */
export const NONCE_LIMIT = 1000;
export const NONCE_TOLERANCE = 100;

export function md5(text: string): string {
  return createHash('md5').update(text).digest('hex');
}

/**
 * The parameters of `Authorization: Digest k=v, k="quoted, \"v\""`, or undefined for another scheme. The scheme
 * is matched exactly ("Digest"), as go-http-auth's DigestAuthParams does.
 */
export function digestParams(header: string | undefined): Map<string, string> | undefined {
  if (header === undefined) return undefined;
  const space = header.indexOf(' ');
  if (space === -1 || header.slice(0, space) !== 'Digest') return undefined;
  const params = new Map<string, string>();
  // The header comes from the client, so the pattern must stay linear: no two quantifiers that can take the same
  // characters next to each other (a bare token is non-empty and has no spaces, RFC 7616 §3.4, so it separates
  // the spaces around it). Anything the pattern does not take ends the parse, and the check then fails.
  const pair = /\s*([^=,\s]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s"]+))\s*(?:,|$)/gy;
  const text = header.slice(space + 1);
  let match: RegExpExecArray | null;
  while (pair.lastIndex < text.length && (match = pair.exec(text)) !== null) {
    const [, key, quoted, token] = match;
    params.set(key!, quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : token!);
  }
  return params;
}

/** Equality of two strings without an early exit (digests compared, so lengths do not matter). */
function sameText(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

export type Verdict = { user: string } | { stale: true } | { refused: true };

export interface DigestRequest {
  method: string;
  /** The request target as received (`/path?query`). */
  url: string;
}

/** One middleware's digest state: its opaque and the nonces it issued. */
export class DigestAuthority {
  readonly opaque = randomBytes(18).toString('base64');
  private readonly nonces = new Map<string, { nc: bigint }>();

  constructor(
    readonly realm: string,
    private readonly ha1Of: (user: string, realm: string) => string | undefined,
  ) {}

  /** A fresh nonce, remembered; the oldest are dropped past the bound (their clients get stale=true and retry). */
  issueNonce(): string {
    if (this.nonces.size > NONCE_LIMIT + NONCE_TOLERANCE) {
      // Map order is insertion order, refreshed on use below: the first keys are the least recently used.
      let drop = NONCE_TOLERANCE * 2;
      for (const key of this.nonces.keys()) {
        if (drop-- === 0) break;
        this.nonces.delete(key);
      }
    }
    const nonce = randomBytes(18).toString('base64');
    this.nonces.set(nonce, { nc: 0n });
    return nonce;
  }

  /** The challenge for a 401; stale when the credentials were right but the nonce unknown or replayed. */
  challenge(stale: boolean): string {
    return `Digest realm="${quote(this.realm)}", nonce="${this.issueNonce()}", opaque="${this.opaque}", algorithm="MD5", qop="auth"${stale ? ', stale=true' : ''}`;
  }

  /** go-http-auth's CheckAuth: parameters, uri, the response (constant-time), then the nonce and its count. */
  check(params: Map<string, string>, request: DigestRequest): Verdict {
    const algorithm = params.get('algorithm') ?? 'MD5'; // clients that omit it mean MD5 (RFC 2617 §3.2.1)
    if (params.get('opaque') !== this.opaque || algorithm !== 'MD5' || params.get('qop') !== 'auth') return { refused: true };
    const uri = params.get('uri') ?? '';
    if (!uriMatches(uri, request.url)) return { refused: true };
    const user = params.get('username') ?? '';
    const nonce = params.get('nonce') ?? '';
    const nc = params.get('nc') ?? '';
    // An unknown user is checked against an empty HA1, as go-http-auth does: it costs the same and never matches.
    const ha1 = this.ha1Of(user, this.realm) ?? '';
    const expected = md5([ha1, nonce, nc, params.get('cnonce') ?? '', 'auth', md5(`${request.method}:${uri}`)].join(':'));
    if (!sameText(expected, params.get('response') ?? '') || ha1 === '') return { refused: true };
    // The credentials are right from here on: a nonce problem asks the client to retry (stale=true), not the user.
    if (!/^[0-9a-fA-F]{1,16}$/.test(nc)) return { refused: true };
    const count = BigInt(`0x${nc}`);
    const client = this.nonces.get(nonce);
    if (client === undefined || (client.nc !== 0n && client.nc >= count)) return { stale: true };
    client.nc = count;
    this.nonces.delete(nonce);
    this.nonces.set(nonce, client); // most recently used last
    return { user };
  }

  get nonceCount(): number {
    return this.nonces.size;
  }
}

/** The digest's uri is the request target, or (go-http-auth's historical leniency) a prefix of its path. */
function uriMatches(uri: string, target: string): boolean {
  if (uri === target) return true;
  let path: string;
  let requestPath: string;
  try {
    path = new URL(uri, 'http://x').pathname;
    requestPath = new URL(target, 'http://x').pathname;
  } catch {
    return false;
  }
  return path.length <= requestPath.length && requestPath.startsWith(path);
}

function quote(text: string): string {
  return text.replace(/["\\]/g, '\\$&');
}
