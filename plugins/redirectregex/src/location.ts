// The new URL as Go's url.Parse reads it and URL.String writes it back: Traefik parses the rewritten URL and sends
// the result as Location, or answers 502 when it does not parse.
import { escapedPath, setPath } from '@wharf/gourl';

export class URLParseError extends Error {}

/** getScheme: letters first, then letters, digits, + - . up to the ':'; anything else means no scheme. */
function splitScheme(raw: string): { scheme: string; rest: string } {
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (/[A-Za-z]/.test(c)) continue;
    if (/[0-9+.-]/.test(c)) {
      if (i === 0) return { scheme: '', rest: raw };
      continue;
    }
    if (c === ':') {
      if (i === 0) throw new URLParseError('missing protocol scheme');
      return { scheme: raw.slice(0, i).toLowerCase(), rest: raw.slice(i + 1) };
    }
    return { scheme: '', rest: raw };
  }
  return { scheme: '', rest: raw };
}

// Characters Go accepts unescaped in a host (shouldEscape with encodeHost), besides letters and digits.
const HOST_CHARS = "-_.~!$&'()*+,;=:[]<>\"";

/** parseHost's checks: no escape of an ASCII character other than %25, no character a host cannot hold, a numeric port. */
function checkHost(host: string): void {
  for (let i = 0; i < host.length; i++) {
    const c = host[i]!;
    if (c === '%') {
      const hex = host.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw new URLParseError(`invalid URL escape ${JSON.stringify(host.slice(i, i + 3))}`);
      if (parseInt(hex, 16) < 0x80 && hex !== '25') throw new URLParseError(`invalid URL escape ${JSON.stringify(`%${hex}`)}`);
      i += 2;
    } else if (c.charCodeAt(0) < 0x80 && !/[A-Za-z0-9]/.test(c) && !HOST_CHARS.includes(c)) {
      throw new URLParseError(`invalid character ${JSON.stringify(c)} in host name`);
    }
  }
  const port = host.startsWith('[') ? host.slice(host.indexOf(']') + 1) : host.slice(host.lastIndexOf(':') === -1 ? host.length : host.lastIndexOf(':'));
  if (port !== '' && !/^:[0-9]*$/.test(port)) throw new URLParseError(`invalid port ${JSON.stringify(port)} after host`);
}

/** url.Parse followed by URL.String(); throws URLParseError where Go returns an error. */
export function goLocation(raw: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(raw)) throw new URLParseError('net/url: invalid control character in URL');
  const hash = raw.indexOf('#');
  const fragment = hash === -1 ? undefined : raw.slice(hash + 1);
  const { scheme, rest: afterScheme } = splitScheme(hash === -1 ? raw : raw.slice(0, hash));
  const q = afterScheme.indexOf('?');
  const query = q === -1 ? '' : afterScheme.slice(q);
  let rest = q === -1 ? afterScheme : afterScheme.slice(0, q);
  let authority: string | undefined;
  if ((scheme !== '' || !rest.startsWith('///')) && rest.startsWith('//')) {
    const slash = rest.indexOf('/', 2);
    authority = slash === -1 ? rest.slice(2) : rest.slice(2, slash);
    rest = slash === -1 ? '' : rest.slice(slash);
    checkHost(authority.slice(authority.lastIndexOf('@') + 1));
  }
  let path;
  try {
    path = setPath(rest);
  } catch (err) {
    throw new URLParseError((err as Error).message, { cause: err });
  }
  const encoded = escapedPath(path);
  let out = scheme === '' ? '' : `${scheme}:`;
  if (authority !== undefined) out += `//${authority}`;
  out += authority !== undefined && encoded !== '' && !encoded.startsWith('/') ? `/${encoded}` : encoded;
  return out + query + (fragment === undefined ? '' : `#${fragment}`);
}
