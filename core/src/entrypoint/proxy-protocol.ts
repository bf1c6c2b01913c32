// PROXY protocol (v1 text, v2 binary) on an entrypoint, as Traefik's entryPoints.<ep>.proxyProtocol: a TCP load
// balancer in front (Swarm's ingress, an AWS NLB, HAProxy) announces the client's address in a header before
// the connection's own bytes. From trusted peers the header is used, from others it is read and dropped
// (go-proxyproto's USE and IGNORE policies), so an untrusted client cannot choose its own address.
import { isIP, type Server, type Socket } from 'node:net';
import { V1ProxyProtocol, V2ProxyProtocol, Command, INETProtocol, IPv4ProxyAddress, IPv6ProxyAddress } from 'proxy-protocol-js';
import { ipMatcher } from '../ip.js';
import type { Logger } from '../log.js';
import { unwrapMappedIPv4 } from '../router/request-facts.js';

export interface ProxyProtocolConfig {
  trustedIPs: string[];
  insecure: boolean;
}

/** The client address a PROXY header announced for a connection. */
export interface ProxiedPeer {
  readonly address: string;
  readonly port: number;
}

const PROXIED = Symbol('wharf.proxyProtocol');
type ProxiedSocket = Socket & { [PROXIED]?: ProxiedPeer; _parent?: ProxiedSocket };

const V1_SIGNATURE = Buffer.from('PROXY ');
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
/** A v1 header is at most 107 bytes, CRLF included (the spec's worst case). */
const V1_MAX = 107;
const V2_FIXED = 16;

/**
 * The address a PROXY header gave this connection, if any. Looks through a TLS socket to the TCP connection
 * under it (Node keeps it as `_parent`), where the header was read.
 */
export function proxiedPeer(socket: Socket): ProxiedPeer | undefined {
  const s = socket as ProxiedSocket;
  return s[PROXIED] ?? s._parent?.[PROXIED];
}

/**
 * Puts a PROXY header reader in front of the server's own connection handling (HTTP parser, TLS handshake):
 * the header is consumed, the bytes after it are handed on untouched. A malformed header, or none complete within
 * `timeoutMs` (0 = no limit), closes the connection.
 */
export function acceptProxyProtocol(server: Server, config: ProxyProtocolConfig, field: string, timeoutMs: number, log: Logger): void {
  const trusted = config.insecure ? () => true : config.trustedIPs.length > 0 ? ipMatcher(config.trustedIPs, field) : () => false;
  const handlers = server.listeners('connection') as Array<(socket: Socket) => void>;
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    const use = trusted(unwrapMappedIPv4(socket.remoteAddress ?? ''));
    readHeader(socket, timeoutMs, (error, peer) => {
      if (error !== undefined) {
        log.debug({ err: error, peer: socket.remoteAddress }, `PROXY protocol: ${error.message}; connection closed`);
        socket.destroy();
        return;
      }
      if (use && peer !== undefined) (socket as ProxiedSocket)[PROXIED] = peer;
      for (const handler of handlers) handler.call(server, socket);
    });
  });
}

type Done = (error: Error | undefined, peer: ProxiedPeer | undefined) => void;

/** Reads until it knows whether a header is there; hands back the bytes that follow it with socket.unshift. */
function readHeader(socket: Socket, timeoutMs: number, done: Done): void {
  let buffered: Buffer = Buffer.alloc(0);
  let settled = false;
  const timer = timeoutMs > 0 ? setTimeout(() => finish(new Error(`no complete header within ${timeoutMs} ms`)), timeoutMs) : undefined;

  function finish(error: Error | undefined, peer?: ProxiedPeer, rest?: Buffer): void {
    if (settled) return;
    settled = true;
    if (timer !== undefined) clearTimeout(timer);
    socket.off('readable', onReadable);
    socket.off('end', onEnd);
    socket.off('error', finish);
    if (error === undefined && rest !== undefined && rest.length > 0) socket.unshift(rest);
    done(error, peer);
  }

  function onReadable(): void {
    let chunk: Buffer | null;
    while ((chunk = socket.read() as Buffer | null) !== null) buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    try {
      const step = headerStep(buffered);
      if (step === 'more') return;
      if (step === 'none') finish(undefined, undefined, buffered);
      else finish(undefined, step.peer, buffered.subarray(step.length));
    } catch (err) {
      finish(err as Error);
    }
  }

  function onEnd(): void {
    // A connection that ended before the header was complete: hand on what came, the server sees the end too.
    finish(undefined, undefined, buffered);
  }

  socket.on('readable', onReadable);
  socket.once('end', onEnd);
  // Until the server's own handlers take over, a reset must not become an unhandled 'error'.
  socket.once('error', finish);
}

type Step = 'more' | 'none' | { length: number; peer: ProxiedPeer | undefined };

/** What the bytes so far say: need more, no header, or a header of `length` bytes. Throws on a malformed one. */
function headerStep(bytes: Buffer): Step {
  if (startsLike(bytes, V1_SIGNATURE)) return bytes.length < V1_SIGNATURE.length ? 'more' : v1Step(bytes);
  if (startsLike(bytes, V2_SIGNATURE)) return bytes.length < V2_FIXED ? 'more' : v2Step(bytes);
  return 'none';
}

/** The bytes so far agree with the signature's beginning (all of it, or as much as has arrived). */
function startsLike(bytes: Buffer, signature: Buffer): boolean {
  const n = Math.min(bytes.length, signature.length);
  return n > 0 && bytes.subarray(0, n).equals(signature.subarray(0, n));
}

function v1Step(bytes: Buffer): Step {
  const end = bytes.indexOf('\r\n');
  if (end === -1) {
    if (bytes.length >= V1_MAX) throw new Error(`v1 header longer than ${V1_MAX} bytes`);
    return 'more';
  }
  const text = bytes.subarray(0, end + 2).toString('latin1');
  if (text.startsWith('PROXY UNKNOWN')) return { length: end + 2, peer: undefined };
  let parsed: V1ProxyProtocol;
  try {
    parsed = V1ProxyProtocol.parse(text);
  } catch (err) {
    throw new Error(`invalid v1 header ${JSON.stringify(text.trim())}: ${(err as Error).message}`, { cause: err });
  }
  // The parser checks the shape only; the addresses must be of the announced family (go-proxyproto checks too).
  const family = parsed.inetProtocol === INETProtocol.TCP6 ? 6 : 4;
  for (const peer of [parsed.source, parsed.destination]) {
    if (isIP(peer.ipAddress) !== family || !(peer.port >= 0 && peer.port <= 65535)) {
      throw new Error(`invalid v1 header ${JSON.stringify(text.trim())}: \`${peer.ipAddress}\` port ${peer.port} is not a ${parsed.inetProtocol} address and port`);
    }
  }
  return { length: end + 2, peer: { address: parsed.source.ipAddress, port: parsed.source.port } };
}

function v2Step(bytes: Buffer): Step {
  const length = V2_FIXED + bytes.readUInt16BE(14);
  if (bytes.length < length) return 'more';
  let parsed: V2ProxyProtocol;
  try {
    parsed = V2ProxyProtocol.parse(new Uint8Array(bytes.subarray(0, length)));
  } catch (err) {
    throw new Error(`invalid v2 header: ${(err as Error).message}`, { cause: err });
  }
  return { length, peer: parsed.command === Command.PROXY ? v2Peer(parsed) : undefined };
}

/** The source address of a v2 PROXY command; LOCAL (health checks) and unix/unspec families keep the TCP peer. */
function v2Peer(parsed: V2ProxyProtocol): ProxiedPeer | undefined {
  const address = parsed.proxyAddress;
  if (address instanceof IPv4ProxyAddress) return { address: address.sourceAddress.address.join('.'), port: address.sourcePort };
  if (address instanceof IPv6ProxyAddress) return { address: ipv6Text(address.sourceAddress.address), port: address.sourcePort };
  return undefined;
}

/** 16 bytes as the canonical (compressed, lower-case) IPv6 text, as Go prints it; IPv4-mapped unwrapped. */
function ipv6Text(bytes: readonly number[]): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return unwrapMappedIPv4(new URL(`http://[${groups.join(':')}]`).hostname.slice(1, -1));
}
