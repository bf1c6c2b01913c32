// TLS termination for TCP routers (`tcp.routers.<r>.tls` without passthrough): the same certificates (tls.certificates,
// ACME supplies) and options as HTTPS, handed to the core as its TLS terminator.
import tls, { type TLSSocket } from 'node:tls';
import type { Logger, TLSTerminator } from '@wharf/core';
import { resolveOptionsName } from './hosts.js';
import { clientCertificateRefusal, requestsCertificate } from './options.js';
import type { StoreHolder } from './store-holder.js';

const HANDSHAKE_TIMEOUT_MS = 60_000;

/** The terminator the plugin registers; `timeoutMs` bounds the handshake (the entrypoint's read timeout was spent peeking). */
export function tcpTerminator(store: StoreHolder, log: Logger, timeoutMs = HANDSHAKE_TIMEOUT_MS): TLSTerminator {
  return async function terminateTCP(socket, request) {
    const made = store.current ?? (await store.ready());
    const snapshot = made.snapshot;
    const name = resolveOptionsName(request.options, request.provider, snapshot.optionNames());
    const options = snapshot.options.get(name);
    if (!options || options instanceof Error) throw new Error(`TLS options '${name}' are ${options ? `invalid: ${options.message}` : 'not defined'}`);
    if (options.sniStrict && !snapshot.index.match(request.servername)) throw new Error(`sniStrict and no certificate for ${request.servername ?? '(no SNI)'}`);
    const secured = new tls.TLSSocket(socket, {
      isServer: true,
      secureContext: snapshot.context(options, snapshot.certificateFor(request.servername)),
      requestCert: requestsCertificate(options.clientAuthType),
      rejectUnauthorized: options.clientAuthType === 'RequireAndVerifyClientCert',
      ALPNProtocols: [...options.alpnProtocols],
    });
    await handshake(secured, timeoutMs);
    secured.disableRenegotiation(); // as HTTPS connections (server.ts)
    const refusal = clientCertificateRefusal(secured, options.clientAuthType);
    if (refusal) {
      secured.destroy();
      throw new Error(`client certificate refused: ${refusal}`);
    }
    log.debug({ entryPoint: request.entrypoint, servername: request.servername, tlsOptions: name }, 'TLS terminated for a TCP router');
    return secured;
  };
}

function handshake(socket: TLSSocket, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`no TLS handshake within ${timeoutMs} ms`)), timeoutMs);
    function fail(err: Error): void {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    }
    socket.once('error', fail);
    socket.once('close', () => fail(new Error('connection closed during the TLS handshake')));
    socket.once('secure', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      socket.removeAllListeners('close');
      resolve();
    });
  });
}
