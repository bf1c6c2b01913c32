// detectContentType gives Go's http.DetectContentType answers: the cases of Go's own sniff_test.go and a few more
// for the order of the signatures and the 512-byte limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectContentType } from './sniff.js';

const b = (s: string) => Buffer.from(s, 'latin1');

const CASES: Array<{ desc: string; data: Buffer; contentType: string }> = [
  { desc: 'Empty', data: b(''), contentType: 'text/plain; charset=utf-8' },
  { desc: 'Binary', data: Buffer.from([1, 2, 3]), contentType: 'application/octet-stream' },
  { desc: 'HTML document #1', data: b('<HtMl><bOdY>blah blah blah</body></html>'), contentType: 'text/html; charset=utf-8' },
  { desc: 'HTML document #2', data: b('<HTML></HTML>'), contentType: 'text/html; charset=utf-8' },
  { desc: 'HTML document #3 (leading whitespace)', data: b('   <!DOCTYPE HTML>...'), contentType: 'text/html; charset=utf-8' },
  { desc: 'HTML document #4 (leading CRLF)', data: b('\r\n<html>...'), contentType: 'text/html; charset=utf-8' },
  { desc: 'HTML comment', data: b('<!-- x -->'), contentType: 'text/html; charset=utf-8' },
  { desc: 'a tag must end with a space or >', data: b('<htmlx>'), contentType: 'text/plain; charset=utf-8' },
  { desc: 'Plain text', data: Buffer.from('This is not HTML. It has ☃ though.', 'utf8'), contentType: 'text/plain; charset=utf-8' },
  { desc: 'JSON is text', data: b('{"a":1}'), contentType: 'text/plain; charset=utf-8' },
  { desc: 'XML', data: b('\n<?xml!'), contentType: 'text/xml; charset=utf-8' },
  { desc: 'PDF', data: b('%PDF-1.7\n'), contentType: 'application/pdf' },
  { desc: 'PostScript', data: b('%!PS-Adobe-3.0'), contentType: 'application/postscript' },
  { desc: 'UTF-16BE BOM', data: b('\xFE\xFFab'), contentType: 'text/plain; charset=utf-16be' },
  { desc: 'UTF-16LE BOM', data: b('\xFF\xFEab'), contentType: 'text/plain; charset=utf-16le' },
  { desc: 'UTF-8 BOM', data: b('\xEF\xBB\xBFab'), contentType: 'text/plain; charset=utf-8' },
  { desc: 'Windows icon', data: b('\x00\x00\x01\x00'), contentType: 'image/x-icon' },
  { desc: 'Windows cursor', data: b('\x00\x00\x02\x00'), contentType: 'image/x-icon' },
  { desc: 'BMP image', data: b('BM...'), contentType: 'image/bmp' },
  { desc: 'GIF 87a', data: b('GIF87a'), contentType: 'image/gif' },
  { desc: 'GIF 89a', data: b('GIF89a...'), contentType: 'image/gif' },
  { desc: 'WEBP image', data: b('RIFF\x00\x00\x00\x00WEBPVP'), contentType: 'image/webp' },
  { desc: 'PNG image', data: b('\x89PNG\x0D\x0A\x1A\x0A'), contentType: 'image/png' },
  { desc: 'JPEG image', data: b('\xFF\xD8\xFF'), contentType: 'image/jpeg' },
  { desc: 'MIDI audio', data: b('MThd\x00\x00\x00\x06\x00\x01'), contentType: 'audio/midi' },
  { desc: 'MP3 audio/MPEG audio', data: b('ID3\x03\x00\x00\x00\x00\x0f'), contentType: 'audio/mpeg' },
  { desc: 'WAV audio #1', data: b('RIFFb\xb8\x00\x00WAVEfmt \x12\x00\x00\x00\x06'), contentType: 'audio/wave' },
  { desc: 'WAV audio #2', data: b('RIFF,\x00\x00\x00WAVEfmt \x12\x00\x00\x00\x06'), contentType: 'audio/wave' },
  { desc: 'AIFF audio #1', data: b('FORM\x00\x00\x00\x00AIFFCOMM\x00\x00\x00\x12\x00\x01\x00\x00\x57\x55\x00\x10\x40\x0d\xf3\x34'), contentType: 'audio/aiff' },
  { desc: 'Sun audio is not one of Go\'s signatures', data: b('.snd\x00\x00\x00\x18'), contentType: 'application/octet-stream' },
  { desc: 'OGG audio', data: b('OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x7e\x46\x00\x00\x00\x00\x00\x00\x1f\xf6\xb4\xfc\x01\x1e\x01\x76\x6f\x72'), contentType: 'application/ogg' },
  { desc: 'Must not match OGG #1', data: b('owow\x00'), contentType: 'application/octet-stream' },
  { desc: 'Must not match OGG #2', data: b('oooS\x00'), contentType: 'application/octet-stream' },
  { desc: 'Must not match OGG #3', data: b('oggS\x00'), contentType: 'application/octet-stream' },
  { desc: 'MP4 video', data: b('\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom<\x06t\xbfmdat'), contentType: 'video/mp4' },
  { desc: 'AVI video #1', data: b('RIFF,O\n\x00AVI LISTÀ'), contentType: 'video/avi' },
  { desc: 'AVI video #2', data: b('RIFF,\n\x00\x00AVI LISTÀ'), contentType: 'video/avi' },
  { desc: 'WebM video', data: b('\x1A\x45\xDF\xA3\x01'), contentType: 'video/webm' },
  { desc: 'TTF sample I', data: b('\x00\x01\x00\x00\x00\x17\x01\x00\x00\x04\x01\x60\x4f'), contentType: 'font/ttf' },
  { desc: 'TTF sample II', data: b('\x00\x01\x00\x00\x00\x0e\x00\x80\x00\x03\x00\x60\x46'), contentType: 'font/ttf' },
  { desc: 'OTTO sample I', data: b('\x4f\x54\x54\x4f\x00\x0e\x00\x80\x00\x03\x00\x60\x42\x41\x53\x45'), contentType: 'font/otf' },
  { desc: 'font collection', data: b('ttcf\x00\x01'), contentType: 'font/collection' },
  { desc: 'woff sample I', data: b('\x77\x4f\x46\x46\x00\x01\x00\x00\x00\x00\x30\x54\x00\x0d\x00\x00'), contentType: 'font/woff' },
  { desc: 'woff2 sample', data: b('\x77\x4f\x46\x32\x00\x01\x00\x00\x00'), contentType: 'font/woff2' },
  { desc: 'Embedded OpenType', data: b(`${'\x07'.repeat(34)}LP\x00\x00`), contentType: 'application/vnd.ms-fontobject' },
  { desc: 'wasm sample', data: b('\x00\x61\x73\x6d\x01\x00'), contentType: 'application/wasm' },
  { desc: 'gzip', data: b('\x1F\x8B\x08\x00'), contentType: 'application/x-gzip' },
  { desc: 'zip', data: b('PK\x03\x04'), contentType: 'application/zip' },
  { desc: 'RAR v1.5-v4.0', data: b('Rar!\x1A\x07\x00'), contentType: 'application/x-rar-compressed' },
  { desc: 'RAR v5+', data: b('Rar!\x1A\x07\x01\x00'), contentType: 'application/x-rar-compressed' },
  { desc: 'Incorrect RAR v1.5-v4.0', data: b('Rar \x1A\x07\x00'), contentType: 'application/octet-stream' },
  { desc: 'Incorrect RAR v5+', data: b('Rar \x1A\x07\x01\x00'), contentType: 'application/octet-stream' },
  { desc: 'only the first 512 bytes are read', data: Buffer.concat([b('a'.repeat(512)), Buffer.from([0])]), contentType: 'text/plain; charset=utf-8' },
  { desc: 'a control byte within them makes it binary', data: Buffer.concat([b('a'.repeat(511)), Buffer.from([0])]), contentType: 'application/octet-stream' },
];

for (const { desc, data, contentType } of CASES) {
  test(desc, () => assert.equal(detectContentType(data), contentType));
}
