// @wharf/test-helpers: what every suite (core, plugins, end-to-end) needs to test over real loopback sockets.
// It must not import @wharf/core: core's own tests import this package, and tsc --build would see a cycle.
export * from './backend.js';
export * from './certs.js';
export * from './cli.js';
export * from './eventually.js';
export * from './fs.js';
export * from './http.js';
export * from './proc.js';
export * from './config.js';
export * from './workers.js';
export * from './redis.js';
export * from './browser.js';
export * from './otlp.js';
