// Reads the server name (SNI) from a TLS ClientHello before the handshake starts, so the TLS options can be chosen per name.
// Node applies versions, ciphers and client-certificate settings per server, not per SNI context, hence the peek (RFC 8446 §4.1.2, RFC 6066 §3).

/** What the first bytes of a connection turned out to be. */
export type HelloResult =
  | { kind: 'more' }
  | { kind: 'hello'; servername: string | undefined; alpn: readonly string[] }
  | { kind: 'http' }
  | { kind: 'invalid'; reason: string };

const RECORD_HANDSHAKE = 0x16;
const HANDSHAKE_CLIENT_HELLO = 0x01;
const EXTENSION_SERVER_NAME = 0x0000;
const NAME_TYPE_HOST = 0x00;
const EXTENSION_ALPN = 0x0010;
const NO_PROTOCOLS: readonly string[] = [];
// A ClientHello with post-quantum key shares is ~2 KiB; anything far larger is not worth buffering.
const MAX_HELLO_BYTES = 64 * 1024;
const HTTP_METHOD_START = /^[A-Z]{3,10} /;

/** Accumulates the first bytes of a connection until the ClientHello is complete. */
export class ClientHelloReader {
  private readonly chunks: Buffer[] = [];
  private length = 0;

  push(chunk: Buffer): HelloResult {
    this.chunks.push(chunk);
    this.length += chunk.length;
    return parseClientHello(this.bytes());
  }

  /** Everything read so far, to hand back to the TLS layer. */
  bytes(): Buffer {
    if (this.chunks.length > 1) this.chunks.splice(0, this.chunks.length, Buffer.concat(this.chunks, this.length));
    return this.chunks[0] ?? Buffer.alloc(0);
  }
}

/** Parses the records at the start of a connection; `more` until the whole ClientHello message is there. */
export function parseClientHello(data: Buffer): HelloResult {
  if (data.length === 0) return { kind: 'more' };
  if (data[0] !== RECORD_HANDSHAKE) return notTLS(data);
  const message = handshakeMessage(data);
  if (message === undefined) return data.length > MAX_HELLO_BYTES ? { kind: 'invalid', reason: 'ClientHello too large' } : { kind: 'more' };
  if (typeof message === 'string') return { kind: 'invalid', reason: message };
  try {
    return { kind: 'hello', ...extensionsOf(message) };
  } catch (err) {
    return { kind: 'invalid', reason: (err as Error).message };
  }
}

/** Plain HTTP sent to the TLS port gets a helpful answer (as Go's server gives); anything else is dropped. */
function notTLS(data: Buffer): HelloResult {
  const head = data.subarray(0, 11).toString('latin1');
  if (HTTP_METHOD_START.test(head)) return { kind: 'http' };
  if (/^[A-Z]{1,10}$/.test(head)) return { kind: 'more' };
  return { kind: 'invalid', reason: 'not a TLS handshake' };
}

/** Joins handshake-record fragments until one full handshake message is there; undefined = need more bytes. */
function handshakeMessage(data: Buffer): Buffer | string | undefined {
  const fragments: Buffer[] = [];
  let have = 0;
  let needed = -1;
  for (let offset = 0; ; ) {
    if (offset + 5 > data.length) return undefined;
    if (data[offset] !== RECORD_HANDSHAKE) return 'ClientHello interrupted by another record type';
    const recordLength = data.readUInt16BE(offset + 3);
    if (offset + 5 + recordLength > data.length) return undefined;
    const fragment = data.subarray(offset + 5, offset + 5 + recordLength);
    fragments.push(fragment);
    have += fragment.length;
    offset += 5 + recordLength;
    if (needed < 0 && have >= 4) {
      const head = Buffer.concat(fragments, have);
      if (head[0] !== HANDSHAKE_CLIENT_HELLO) return 'first handshake message is not a ClientHello';
      needed = 4 + head.readUIntBE(1, 3);
      if (needed > MAX_HELLO_BYTES) return 'ClientHello too large';
    }
    if (needed >= 0 && have >= needed) return Buffer.concat(fragments, have).subarray(4, needed);
  }
}

/**
 * Walks a ClientHello body to the server_name and ALPN extensions (the ALPN list lets TLS-ALPN-01 challenges, RFC 8737,
 * be answered with their own certificate); throws on a malformed message.
 */
function extensionsOf(body: Buffer): { servername: string | undefined; alpn: readonly string[] } {
  const reader = new Cursor(body);
  reader.skip(2 + 32); // legacy_version, random
  reader.skip(reader.u8()); // legacy_session_id
  reader.skip(reader.u16()); // cipher_suites
  reader.skip(reader.u8()); // legacy_compression_methods
  let servername: string | undefined;
  let alpn = NO_PROTOCOLS;
  if (reader.remaining() === 0) return { servername, alpn }; // no extensions at all
  const extensions = new Cursor(reader.take(reader.u16()));
  while (extensions.remaining() > 0) {
    const type = extensions.u16();
    const data = extensions.take(extensions.u16());
    if (type === EXTENSION_SERVER_NAME) servername = hostNameOf(new Cursor(data));
    else if (type === EXTENSION_ALPN) alpn = protocolsOf(new Cursor(data));
  }
  return { servername, alpn };
}

function protocolsOf(extension: Cursor): string[] {
  const list = new Cursor(extension.take(extension.u16()));
  const protocols: string[] = [];
  while (list.remaining() > 0) protocols.push(list.take(list.u8()).toString('latin1'));
  return protocols;
}

function hostNameOf(extension: Cursor): string | undefined {
  const list = new Cursor(extension.take(extension.u16()));
  while (list.remaining() > 0) {
    const nameType = list.u8();
    const name = list.take(list.u16());
    if (nameType === NAME_TYPE_HOST) return name.toString('latin1');
  }
  return undefined;
}

/** Bounds-checked big-endian reader over a buffer. */
class Cursor {
  private offset = 0;
  constructor(private readonly data: Buffer) {}

  remaining(): number {
    return this.data.length - this.offset;
  }

  u8(): number {
    this.need(1);
    return this.data[this.offset++]!;
  }

  u16(): number {
    this.need(2);
    const value = this.data.readUInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  skip(n: number): void {
    this.need(n);
    this.offset += n;
  }

  take(n: number): Buffer {
    this.need(n);
    const out = this.data.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  private need(n: number): void {
    if (this.offset + n > this.data.length) throw new Error('malformed ClientHello');
  }
}
