// Password checks against htpasswd secrets, as Traefik's (go-http-auth's) CheckSecret: bcrypt ($2a$, $2b$, $2x$,
// $2y$), MD5-crypt ($apr1$ and $1$), {SHA}; anything else (plain text included) never matches.
import { createHash, timingSafeEqual } from 'node:crypto';
import { bcryptCompare } from './bcrypt-pool.js';

export type SecretKind = 'bcrypt' | 'md5crypt' | 'sha1' | 'unsupported';

export function secretKind(secret: string): SecretKind {
  if (/^\$2[abxy]\$/.test(secret)) return 'bcrypt';
  if (secret.startsWith('{SHA}')) return 'sha1';
  // go-http-auth's default: `$magic$salt$hash` is MD5-crypt with that magic ($1$, $apr1$).
  if (/^\$[^$]*\$[^$]*\$/.test(secret)) return 'md5crypt';
  return 'unsupported';
}

/** Whether `password` (the bytes the client sent) matches the htpasswd secret; the comparison is constant-time. */
export async function checkSecret(password: Buffer, secret: string): Promise<boolean> {
  switch (secretKind(secret)) {
    case 'bcrypt':
      return bcryptCompare(password, secret);
    case 'sha1':
      return sameText(secret.slice(5), createHash('sha1').update(password).digest('base64'));
    case 'md5crypt': {
      const [, magic = '', salt = ''] = secret.split('$');
      return sameText(secret, md5Crypt(password, Buffer.from(salt), `$${magic}$`));
    }
    default:
      return false;
  }
}

/**
 * Constant-time equality of two strings of any lengths: timingSafeEqual needs equal lengths, so it compares their
 * SHA-256 digests (equal digests ⇔ equal strings, short of a collision); no early exit on the first difference.
 */
export function sameText(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
// Byte order of the final digest in the encoded hash (Poul-Henning Kamp's md5crypt).
const SWAPS = [12, 6, 0, 13, 7, 1, 14, 8, 2, 15, 9, 3, 5, 10, 4, 11];

/** MD5-crypt (`$1$`, Apache's `$apr1$`): `magic + salt + '$' + 22 characters`, as crypt(3) and htpasswd -m. */
export function md5Crypt(password: Buffer, salt: Buffer, magic: string): string {
  const saltBytes = salt.subarray(0, 8);
  const alternate = createHash('md5').update(password).update(saltBytes).update(password).digest();
  const first = createHash('md5').update(password).update(magic).update(saltBytes);
  for (let left = password.length; left > 0; left -= 16) first.update(alternate.subarray(0, Math.min(16, left)));
  for (let bits = password.length; bits > 0; bits >>= 1) first.update(bits & 1 ? Buffer.of(0) : password.subarray(0, 1));
  let final = first.digest();
  // 1000 rounds, to slow down guessing.
  for (let i = 0; i < 1000; i++) {
    const round = createHash('md5');
    round.update(i & 1 ? password : final);
    if (i % 3 !== 0) round.update(saltBytes);
    if (i % 7 !== 0) round.update(password);
    round.update(i & 1 ? final : password);
    final = round.digest();
  }
  let encoded = '';
  let value = 0;
  let bits = 0;
  for (const index of SWAPS) {
    value |= final[index]! << bits;
    for (bits += 8; bits > 6; bits -= 6) {
      encoded += ITOA64[value & 0x3f];
      value >>>= 6;
    }
  }
  encoded += ITOA64[value & 0x3f];
  return `${magic}${saltBytes.toString('latin1')}$${encoded}`;
}
