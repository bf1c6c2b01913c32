// passTLSClientCert: pass the client certificate of a mutual-TLS connection to the service, as PEM in
// X-Forwarded-Tls-Client-Cert and as selected details in X-Forwarded-Tls-Client-Cert-Info — Traefik's middleware.
import type { TLSSocket } from 'node:tls';
import { definePlugin, Section, Type, type Next, type Static, type WharfContext } from '@wharf/core';
import { infoHeader, pemHeader, peerCertificates, type InfoOptions } from './format.js';

export { certInfo, dnInfo, goQueryEscape, infoHeader, pemHeader, peerCertificates, subjectAltNames } from './format.js';

const flag = (description: string) => Type.Optional(Type.Boolean({ description }));

const country = flag('Country (C).');
const province = flag('State or province (ST).');
const locality = flag('Locality (L).');
const organization = flag('Organization (O).');
const commonName = flag('Common name (CN).');
const serialNumber = flag('Serial number attribute of the name (SN).');
const domainComponent = flag('Domain components (DC).');

const Subject = Type.Object(
  { country, province, locality, organization, organizationalUnit: flag('Organizational unit (OU).'), commonName, serialNumber, domainComponent },
  { additionalProperties: false, description: 'Subject parts to pass, as Subject="…".' },
);
const Issuer = Type.Object(
  { country, province, locality, organization, commonName, serialNumber, domainComponent },
  { additionalProperties: false, description: 'Issuer parts to pass, as Issuer="…" (Traefik has no organizationalUnit here).' },
);

const Info = Type.Object(
  {
    notAfter: flag('End of validity, NA="<unix seconds>".'),
    notBefore: flag('Start of validity, NB="<unix seconds>".'),
    sans: flag('Subject alternative names (DNS, e-mail, IP, URI), SAN="…".'),
    serialNumber: flag('Certificate serial number in decimal, SerialNumber="…".'),
    subject: Type.Optional(Section(Subject)),
    issuer: Type.Optional(Section(Issuer)),
  },
  { additionalProperties: false, description: 'Pass selected details in X-Forwarded-Tls-Client-Cert-Info (url-escaped); set even when no field is selected.' },
);

export const schema = Type.Object(
  {
    pem: Type.Boolean({ default: false, description: 'Pass the certificate(s) in X-Forwarded-Tls-Client-Cert: PEM without header, footer and newlines, comma-separated.' }),
    info: Type.Optional(Section(Info)),
  },
  { additionalProperties: false },
);

export type PassTLSClientCertConfig = Static<typeof schema>;

const CERT = 'x-forwarded-tls-client-cert';
const CERT_INFO = 'x-forwarded-tls-client-cert-info';

export default definePlugin({
  name: 'passTLSClientCert',
  description: 'Pass the client certificate (PEM) and selected details of it to the service (mutual TLS).',
  schema,
  create({ pem, info }) {
    const details: InfoOptions | undefined = info;
    // Reading and parsing the client's chain costs hundreds of µs; it is fixed for the connection (the TLS plugin
    // refuses renegotiation, as Go does), so the header values are kept on the connection, one key per middleware
    // (their options differ) — as core keeps its peer facts. Over HTTP/2, req.socket hands the key to the session's socket.
    const key: unique symbol = Symbol('wharf.passTLSClientCert');
    return function passTLSClientCert(ctx: WharfContext, next: Next) {
      // The entrypoint drops these from untrusted peers only; a value that did not come from this connection's
      // certificate must never reach the service, trusted peer or not.
      delete ctx.req.headers[CERT];
      delete ctx.req.headers[CERT_INFO];
      if (pem || details !== undefined) setCertificateHeaders(ctx, pem, details, key);
      return next();
    };
  },
});

/** The header values one connection's certificate gives; both undefined without a client certificate. */
interface CertificateHeaders {
  cert: string | undefined;
  info: string | undefined;
}

type CachingSocket = TLSSocket & Record<symbol, CertificateHeaders | undefined>;

/** Sets the headers asked for when the connection carries a client certificate; leaves them unset otherwise. */
function setCertificateHeaders(ctx: WharfContext, pem: boolean, info: InfoOptions | undefined, key: symbol): void {
  const socket = ctx.req.socket as CachingSocket;
  if (socket.encrypted !== true) return;
  const headers = (socket[key] ??= certificateHeaders(socket, pem, info));
  if (headers.cert !== undefined) ctx.req.headers[CERT] = headers.cert;
  if (headers.info !== undefined) ctx.req.headers[CERT_INFO] = headers.info;
}

function certificateHeaders(socket: TLSSocket, pem: boolean, info: InfoOptions | undefined): CertificateHeaders {
  const certs = peerCertificates(socket);
  if (certs.length === 0) return { cert: undefined, info: undefined };
  return { cert: pem ? pemHeader(certs) : undefined, info: info !== undefined ? infoHeader(certs, info) : undefined };
}
