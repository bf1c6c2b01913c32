// Go's header-name canonical form, which Traefik shows wherever it prints or matches header names.

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Go's http.CanonicalHeaderKey (textproto.CanonicalMIMEHeaderKey): `x-request-id` → `X-Request-Id`; a name with
 * a byte that is not a token character is returned unchanged, as Go does.
 */
export function canonicalHeaderKey(name: string): string {
  if (!TOKEN.test(name)) return name;
  let out = '';
  let upper = true;
  for (const ch of name) {
    out += upper ? ch.toUpperCase() : ch.toLowerCase();
    upper = ch === '-';
  }
  return out;
}
