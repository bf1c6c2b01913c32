// Content-Type sniffing as Go's http.DetectContentType does it (the WHATWG MIME Sniffing algorithm's subset Go
// implements, in Go's order), so Wharf answers what Traefik answers: at most the first 512 bytes are read, and
// anything unrecognised is application/octet-stream.

const SNIFF_LEN = 512;

type Signature = (data: Buffer, firstNonWS: number) => string | undefined;

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

function exact(sig: string, type: string): Signature {
  const pattern = bytes(sig);
  return (data) => (data.length >= pattern.length && data.subarray(0, pattern.length).equals(pattern) ? type : undefined);
}

function masked(mask: string, pat: string, type: string, skipWS = false): Signature {
  const m = bytes(mask);
  const p = bytes(pat);
  return (data, firstNonWS) => {
    const d = skipWS ? data.subarray(firstNonWS) : data;
    if (d.length < m.length) return undefined;
    for (let i = 0; i < m.length; i++) if ((d[i]! & m[i]!) !== p[i]) return undefined;
    return type;
  };
}

/** An HTML tag at the first non-whitespace byte, letters in any case, followed by a space or '>'. */
function html(tag: string): Signature {
  const pattern = bytes(tag);
  return (data, firstNonWS) => {
    const d = data.subarray(firstNonWS);
    if (d.length < pattern.length + 1) return undefined;
    for (let i = 0; i < pattern.length; i++) {
      const b = pattern[i]!;
      // Letters of the pattern are upper case: compare the data's byte folded to upper case.
      const db = b >= 0x41 && b <= 0x5a ? d[i]! & 0xdf : d[i]!;
      if (db !== b) return undefined;
    }
    const next = d[pattern.length];
    return next === 0x20 || next === 0x3e ? 'text/html; charset=utf-8' : undefined;
  };
}

/** An ISO base media file whose ftyp box names an mp4 brand (WHATWG §6.2.1). */
const mp4: Signature = (data) => {
  if (data.length < 12) return undefined;
  const boxSize = data.readUInt32BE(0);
  if (boxSize % 4 !== 0 || data.length < boxSize) return undefined;
  if (data.toString('latin1', 4, 8) !== 'ftyp') return undefined;
  for (let st = 8; st < boxSize; st += 4) {
    if (st === 12) continue; // the minor version number
    if (data.toString('latin1', st, st + 3) === 'mp4') return 'video/mp4';
  }
  return undefined;
};

/** Text unless a byte from the binary ranges of WHATWG §5 (control characters but TAB, LF, FF, CR, ESC) appears. */
const text: Signature = (data, firstNonWS) => {
  for (let i = firstNonWS; i < data.length; i++) {
    const b = data[i]!;
    if (b <= 0x08 || b === 0x0b || (b >= 0x0e && b <= 0x1a) || (b >= 0x1c && b <= 0x1f)) return undefined;
  }
  return 'text/plain; charset=utf-8';
};

const RIFF_MASK = '\xFF\xFF\xFF\xFF\x00\x00\x00\x00\xFF\xFF\xFF\xFF';

// Go's sniffSignatures, in order: the first match wins.
const SIGNATURES: readonly Signature[] = [
  ...['<!DOCTYPE HTML', '<HTML', '<HEAD', '<SCRIPT', '<IFRAME', '<H1', '<DIV', '<FONT', '<TABLE', '<A', '<STYLE', '<TITLE', '<B', '<BODY', '<BR', '<P', '<!--'].map(html),
  masked('\xFF\xFF\xFF\xFF\xFF', '<?xml', 'text/xml; charset=utf-8', true),
  exact('%PDF-', 'application/pdf'),
  exact('%!PS-Adobe-', 'application/postscript'),
  // Byte order marks.
  masked('\xFF\xFF\x00\x00', '\xFE\xFF\x00\x00', 'text/plain; charset=utf-16be'),
  masked('\xFF\xFF\x00\x00', '\xFF\xFE\x00\x00', 'text/plain; charset=utf-16le'),
  masked('\xFF\xFF\xFF\x00', '\xEF\xBB\xBF\x00', 'text/plain; charset=utf-8'),
  // Images.
  exact('\x00\x00\x01\x00', 'image/x-icon'),
  exact('\x00\x00\x02\x00', 'image/x-icon'),
  exact('BM', 'image/bmp'),
  exact('GIF87a', 'image/gif'),
  exact('GIF89a', 'image/gif'),
  masked('\xFF\xFF\xFF\xFF\x00\x00\x00\x00\xFF\xFF\xFF\xFF\xFF\xFF', 'RIFF\x00\x00\x00\x00WEBPVP', 'image/webp'),
  exact('\x89PNG\x0D\x0A\x1A\x0A', 'image/png'),
  exact('\xFF\xD8\xFF', 'image/jpeg'),
  // Audio and video, in the order WHATWG prescribes.
  masked(RIFF_MASK, 'FORM\x00\x00\x00\x00AIFF', 'audio/aiff'),
  masked('\xFF\xFF\xFF', 'ID3', 'audio/mpeg'),
  masked('\xFF\xFF\xFF\xFF\xFF', 'OggS\x00', 'application/ogg'),
  masked('\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF', 'MThd\x00\x00\x00\x06', 'audio/midi'),
  masked(RIFF_MASK, 'RIFF\x00\x00\x00\x00AVI ', 'video/avi'),
  masked(RIFF_MASK, 'RIFF\x00\x00\x00\x00WAVE', 'audio/wave'),
  mp4,
  exact('\x1A\x45\xDF\xA3', 'video/webm'),
  // Fonts: an Embedded OpenType file has "LP" after 34 bytes of anything.
  masked(`${'\x00'.repeat(34)}\xFF\xFF`, `${'\x00'.repeat(34)}LP`, 'application/vnd.ms-fontobject'),
  exact('\x00\x01\x00\x00', 'font/ttf'),
  exact('OTTO', 'font/otf'),
  exact('ttcf', 'font/collection'),
  exact('wOFF', 'font/woff'),
  exact('wOF2', 'font/woff2'),
  // Archives.
  exact('\x1F\x8B\x08', 'application/x-gzip'),
  exact('PK\x03\x04', 'application/zip'),
  exact('Rar!\x1A\x07\x00', 'application/x-rar-compressed'),
  exact('Rar!\x1A\x07\x01\x00', 'application/x-rar-compressed'),
  exact('\x00asm', 'application/wasm'),
  text,
];

function isWS(b: number): boolean {
  return b === 0x09 || b === 0x0a || b === 0x0c || b === 0x0d || b === 0x20;
}

/** Go's http.DetectContentType: the media type of a body from its first bytes. */
export function detectContentType(body: Buffer): string {
  const data = body.length > SNIFF_LEN ? body.subarray(0, SNIFF_LEN) : body;
  let firstNonWS = 0;
  while (firstNonWS < data.length && isWS(data[firstNonWS]!)) firstNonWS++;
  for (const signature of SIGNATURES) {
    const type = signature(data, firstNonWS);
    if (type !== undefined) return type;
  }
  return 'application/octet-stream';
}
