// Content-type sniffing for a response that has none, as gzhttp does with Go's http.DetectContentType
// (the WHATWG mime-sniffing signatures): the common subset of its table, in its order, on the first 512 bytes.

const SNIFF_LEN = 512;

/** Tags after which Go's sniffer answers text/html (case-insensitive, then a space or `>`). */
const HTML_TAGS = ['<!DOCTYPE HTML', '<HTML', '<HEAD', '<SCRIPT', '<IFRAME', '<H1', '<DIV', '<FONT', '<TABLE', '<A', '<STYLE', '<TITLE', '<B', '<BODY', '<BR', '<P', '<!--'].map(
  (tag) => Buffer.from(tag, 'latin1'),
);

/** Exact prefixes, in the order Go tries them. */
const PREFIXES: Array<[Buffer, string]> = (
  [
    ['%PDF-', 'application/pdf'],
    ['%!PS-Adobe-', 'application/postscript'],
    ['\xFE\xFF', 'text/plain; charset=utf-16be'],
    ['\xFF\xFE', 'text/plain; charset=utf-16le'],
    ['\xEF\xBB\xBF', 'text/plain; charset=utf-8'],
    ['\x00\x00\x01\x00', 'image/x-icon'],
    ['\x00\x00\x02\x00', 'image/x-icon'],
    ['BM', 'image/bmp'],
    ['GIF87a', 'image/gif'],
    ['GIF89a', 'image/gif'],
    ['\x89PNG\x0D\x0A\x1A\x0A', 'image/png'],
    ['\xFF\xD8\xFF', 'image/jpeg'],
    ['OggS\x00', 'application/ogg'],
    ['ID3', 'audio/mpeg'],
    ['\x1A\x45\xDF\xA3', 'video/webm'],
    ['Rar!\x1A\x07\x00', 'application/x-rar-compressed'],
    ['Rar!\x1A\x07\x01\x00', 'application/x-rar-compressed'],
    ['\x00\x61\x73\x6D', 'application/wasm'],
    ['wOFF', 'font/woff'],
    ['wOF2', 'font/woff2'],
    ['\x1F\x8B\x08', 'application/x-gzip'],
    ['PK\x03\x04', 'application/zip'],
  ] as const
).map(([prefix, type]) => [Buffer.from(prefix, 'latin1'), type]);

/** RIFF containers: `RIFF????` then a four-byte form type. */
const RIFF: Record<string, string> = { WEBP: 'image/webp', WAVE: 'audio/wave', 'AVI ': 'video/avi' };

function isWhitespace(byte: number): boolean {
  return byte === 0x09 || byte === 0x0a || byte === 0x0c || byte === 0x0d || byte === 0x20;
}

/** Bytes that make Go call a body binary rather than text. */
function isBinary(byte: number): boolean {
  return byte <= 0x08 || byte === 0x0b || (byte >= 0x0e && byte <= 0x1a) || (byte >= 0x1c && byte <= 0x1f);
}

function startsWithUpper(data: Buffer, at: number, tag: Buffer): boolean {
  if (data.length - at < tag.length) return false;
  for (let i = 0; i < tag.length; i++) {
    let b = data[at + i]!;
    if (b >= 0x61 && b <= 0x7a) b -= 0x20; // upper-case ASCII letters only, as Go does
    if (b !== tag[i]) return false;
  }
  return true;
}

function isHtml(data: Buffer, at: number): boolean {
  return HTML_TAGS.some((tag) => {
    if (!startsWithUpper(data, at, tag)) return false;
    const next = data[at + tag.length];
    return next === 0x20 || next === 0x3e; // the tag ends: a space or '>'
  });
}

/** The media type Go's http.DetectContentType gives for the start of a body. */
export function sniffContentType(body: Buffer): string {
  const data = body.length > SNIFF_LEN ? body.subarray(0, SNIFF_LEN) : body;
  let first = 0;
  while (first < data.length && isWhitespace(data[first]!)) first++;
  if (isHtml(data, first)) return 'text/html; charset=utf-8';
  if (data.subarray(first, first + 5).toString('latin1') === '<?xml') return 'text/xml; charset=utf-8';
  for (const [prefix, type] of PREFIXES) if (data.length >= prefix.length && data.subarray(0, prefix.length).equals(prefix)) return type;
  if (data.length >= 12 && data.subarray(0, 4).toString('latin1') === 'RIFF') {
    const form = RIFF[data.subarray(8, 12).toString('latin1')];
    if (form) return form;
  }
  if (data.length >= 12 && data.subarray(4, 8).toString('latin1') === 'ftyp') return 'video/mp4';
  return data.some(isBinary) ? 'application/octet-stream' : 'text/plain; charset=utf-8';
}
