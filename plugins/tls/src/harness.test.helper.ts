// Test helpers for the TLS plugin: a capturing logger, a backend that reports what it received, and TLS clients.
// Certificates and temp directories come from @wharf/test-helpers.
import type http from 'node:http';
import https from 'node:https';
import tls, { type TLSSocket } from 'node:tls';
import type { Logger } from '@wharf/core';
import { startServer } from '@wharf/test-helpers';

export interface LogLine {
  level: string;
  msg: string;
  obj: Record<string, unknown>;
}

/** A logger that keeps every line, and lets a test wait for the line it expects (no sleeps). */
export function captureLog(): { log: Logger; lines: LogLine[]; waitFor(match: (line: LogLine) => boolean): Promise<LogLine> } {
  const lines: LogLine[] = [];
  let waiters: Array<{ match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }> = [];
  const record = (level: string) => (a?: unknown, b?: unknown) => {
    const line: LogLine = typeof a === 'string' ? { level, msg: a, obj: {} } : { level, msg: String(b ?? ''), obj: (a ?? {}) as Record<string, unknown> };
    lines.push(line);
    const ready = waiters.filter((w) => w.match(line));
    waiters = waiters.filter((w) => !w.match(line));
    for (const w of ready) w.resolve(line);
  };
  const make = (): Logger =>
    ({
      level: 'trace',
      trace: record('trace'),
      debug: record('debug'),
      info: record('info'),
      warn: record('warn'),
      error: record('error'),
      fatal: record('fatal'),
      child: () => make(),
      bindings: () => ({}),
      isLevelEnabled: () => true,
      flush: () => undefined,
    }) as unknown as Logger;
  return {
    log: make(),
    lines,
    waitFor(match) {
      const seen = lines.find(match);
      return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
}

/** An HTTP backend answering JSON `{ name, host, proto }` from what it received. */
export async function startEchoBackend(name = 'backend'): Promise<{ url: string; close(): Promise<void> }> {
  const { url, close } = await startServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const body = JSON.stringify({ name, host: req.headers.host, proto: req.headers['x-forwarded-proto'], method: req.method, url: req.url });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  return { url, close };
}

export interface Handshake {
  /** Subject CN of the certificate the server sent. */
  cn: string;
  /** SAN DNS names of that certificate. */
  names: string[];
  protocol: string | null;
  alpn: string | false;
  socket: TLSSocket;
}

/** One TLS handshake to 127.0.0.1:port; rejects with the TLS error when the server refuses it. */
export function handshake(port: number, options: tls.ConnectionOptions = {}): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options }, () => {
      const peer = socket.getPeerCertificate();
      resolve({
        cn: String(peer.subject?.CN ?? ''),
        names: (peer.subjectaltname ?? '').split(', ').filter(Boolean).map((n) => n.replace(/^DNS:/, '')),
        protocol: socket.getProtocol(),
        alpn: socket.alpnProtocol ?? false,
        socket,
      });
    });
    socket.once('error', reject);
  });
}

/** Handshakes, then closes; the served certificate's CN. */
export async function servedCN(port: number, servername?: string, options: tls.ConnectionOptions = {}): Promise<string> {
  const result = await handshake(port, { ...(servername ? { servername } : {}), ...options });
  result.socket.destroy();
  return result.cn;
}

export interface TLSReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  socket: TLSSocket;
}

/** One HTTPS/1.1 request; `servername` is the SNI, `host` the Host header (default: the servername). */
export function httpsRequest(port: number, options: https.RequestOptions & { host?: string; servername?: string; body?: string; ALPNProtocols?: string[] } = {}): Promise<TLSReply> {
  const { host, servername, body, headers, ...rest } = options;
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        hostname: '127.0.0.1',
        port,
        agent: false,
        rejectUnauthorized: false,
        ...(servername ? { servername } : {}),
        headers: { host: host ?? servername ?? 'localhost', ...headers },
        ...rest,
      },
      (res) => {
        // A keep-alive agent takes the socket back once the body is read.
        const socket = res.socket as TLSSocket;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), socket }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
