// `@wharf/core/tls`: PEM files and inline PEM read with errors naming the field, key-pair checks, and the
// connector that reaches upstreams as the proxy does (serversTransport TLS): for TLS, health-check and store plugins.
export { isInlinePem, readPemValue, readCertificates, readKeyPair, parseKeyPair, KeyPairError, type KeyPair } from './config/pem.js';
export { upstreamConnector, type ServersTransport, type ClientCertificate } from './service/pool.js';
