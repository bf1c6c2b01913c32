// forwardAuth: asks an authentication server about each request (Authelia, oauth2-proxy, …) — Traefik's
// ForwardAuth middleware. 2xx lets the request through with the chosen headers; any other answer goes to the client.
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { buffer } from 'node:stream/consumers';
import { definePlugin, hasRequestBody, isReplayableBody, onResponseHeaders, replaceRequestBody, type Next, type PluginContext, type WharfContext } from '@wharf/core';
import { readCertificates, readPemValue, parseKeyPair, upstreamConnector, KeyPairError, type ClientCertificate } from '@wharf/core/tls';
import { compileGoRegexp, type GoRegexp } from '@wharf/gourl';
import { Pool, type Dispatcher } from 'undici';
import { authRequestHeaders, headerPolicy, type HeaderPolicy } from './request.js';
import { copyAuthHeaders, locationFor, relayedHeaders, replaceCookies, setCookieLines, cookieName } from './response.js';
import { schema, type ForwardAuthConfig, type ForwardAuthTLS } from './schema.js';

export { schema, tlsSchema, type ForwardAuthConfig, type ForwardAuthTLS } from './schema.js';
export { authRequestHeaders, headerPolicy, canonicalHeaderKey, isManagedXHeader } from './request.js';
export { locationFor, mergeCookies, cookieName } from './response.js';

/** Go's http.Client timeout in Traefik's forwardAuth, and its transport's dial timeout. */
const AUTH_TIMEOUT_MS = 30_000;
/** Go's DefaultTransport IdleConnTimeout: how long an idle connection to the auth server is kept. */
const IDLE_TIMEOUT_MS = 90_000;

/** The address as a URL, or an error naming the field. */
export function parseAddress(address: string): URL {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new Error(`address: not a URL, got ${JSON.stringify(address)}; write it as http://host:port/path`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`address: the scheme must be http or https, got ${JSON.stringify(address)}`);
  }
  return url;
}

/** tls.* read and checked (PEM files or text); errors name the field, never key material. */
export function readTLS(tls: ForwardAuthTLS | undefined): { rootCAs: string[]; certificates: ClientCertificate[]; insecureSkipVerify: boolean } {
  if (tls === undefined) return { rootCAs: [], certificates: [], insecureSkipVerify: false };
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new Error(tls.cert === undefined ? 'tls.cert: required when tls.key is set (both TLS cert and key must be defined)' : 'tls.key: required when tls.cert is set (both TLS cert and key must be defined)');
  }
  const rootCAs = tls.ca === undefined ? [] : [readCertificates(tls.ca, 'tls.ca')];
  const certificates: ClientCertificate[] = [];
  if (tls.cert !== undefined && tls.key !== undefined) {
    const cert = readPemValue(tls.cert, 'tls.cert');
    const key = readPemValue(tls.key, 'tls.key');
    try {
      parseKeyPair(cert, key);
    } catch (err) {
      if (!(err instanceof KeyPairError)) throw err;
      const field = err.part === 'certificate' ? 'tls.cert' : 'tls.key';
      throw new Error(`${field}: ${err.message}`, { cause: err });
    }
    certificates.push({ cert, key });
  }
  return { rootCAs, certificates, insecureSkipVerify: tls.insecureSkipVerify };
}

/** What create precomputes for one middleware. */
interface Settings {
  readonly address: URL;
  readonly path: string;
  readonly pool: Pool;
  readonly policy: HeaderPolicy;
  readonly responseHeaders: readonly string[];
  readonly responseRegex: GoRegexp | undefined;
  readonly authCookieNames: ReadonlySet<string>;
  readonly headerField: string | undefined;
  readonly signinURL: string | undefined;
  readonly options: ForwardAuthConfig;
  readonly context: PluginContext;
}

/** The auth server's answer, its body read whole (bounded by maxResponseBodySize). */
interface AuthAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

class TooLarge extends Error {}

/** Reads an answer body whole, failing with TooLarge past `max` bytes (-1: no limit); the stream is dropped then. */
async function readAll(stream: AsyncIterable<Buffer>, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    // Leaving the loop destroys the stream (and so the connection it came on).
    if (max >= 0 && size > max) throw new TooLarge();
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}

/**
 * Reads the request body whole, failing with TooLarge past `max` bytes (-1: no limit). Past the limit the rest is
 * drained rather than the stream destroyed, so the client's connection stays usable for the 401.
 */
function readRequestBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (max >= 0 && size > max) {
        cleanup();
        req.resume();
        reject(new TooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onClose = (): void => {
      if (!req.complete) onError(new Error('the client closed the connection before the body ended'));
    };
    function cleanup(): void {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    }
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/**
 * The request body: as an earlier middleware handed it on (another forwardAuth, buffering's memory or temporary
 * file, retry), else read from the client now.
 */
async function bodyOf(ctx: WharfContext, max: number): Promise<Buffer> {
  const held = ctx.wharf.requestBody;
  if (held === undefined) return readRequestBody(ctx.req, max);
  if (isReplayableBody(held) && max >= 0 && held.length > max) throw new TooLarge();
  const source = isReplayableBody(held) && !Buffer.isBuffer(held) ? held.open() : held;
  const body = Buffer.isBuffer(source) ? source : await buffer(source);
  if (max >= 0 && body.length > max) throw new TooLarge();
  return body;
}

/** Answers with a status and no body (Traefik's rw.WriteHeader(code) alone). */
function answerEmpty(ctx: WharfContext, status: number): void {
  ctx.body = null;
  ctx.status = status;
}

/** Relays a refusal: the auth server's status, headers (Location resolved as Traefik does) and body. */
function relay(ctx: WharfContext, answer: AuthAnswer, s: Settings): void {
  const headers = relayedHeaders(answer.headers);
  let location: string | undefined;
  try {
    location = locationFor(typeof answer.headers.location === 'string' ? answer.headers.location : undefined, s.address, s.options.preserveLocationHeader);
  } catch (err) {
    s.context.log.debug({ err }, `error reading the Location of ${s.address.href}`);
    answerEmpty(ctx, 500);
    return;
  }
  if (location !== undefined) headers.location = location;
  ctx.status = answer.status;
  for (const name in headers) ctx.set(name, headers[name]!);
  ctx.body = answer.body;
  // Koa would label the body application/octet-stream: keep the auth server's type, or none.
  if (answer.headers['content-type'] === undefined) ctx.remove('Content-Type');
}

/** Go's http.Redirect to authSigninURL: 302, and for GET a short HTML body. */
function redirectToSignin(ctx: WharfContext, url: string): void {
  const get = ctx.method === 'GET';
  if (!get) ctx.body = null;
  ctx.status = 302;
  ctx.set('Location', url);
  if (get || ctx.method === 'HEAD') ctx.type = 'text/html; charset=utf-8';
  if (get) ctx.body = `<a href="${htmlEscape(url)}">Found</a>.\n\n`;
}

function htmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&#34;').replace(/'/g, '&#39;');
}

/** Adds the auth server's listed cookies to whatever response the rest of the chain makes. */
function addAuthCookies(ctx: WharfContext, authCookies: readonly string[], names: ReadonlySet<string>): void {
  onResponseHeaders(ctx, (_status, headers) => replaceCookies(headers, authCookies, names));
}

/** Asks the auth server; undefined when the request was answered here (error, body too large). */
async function ask(ctx: WharfContext, s: Settings): Promise<AuthAnswer | undefined> {
  const req = ctx.req;
  let body: Buffer | undefined;
  if (s.options.forwardBody && hasRequestBody(req)) {
    try {
      body = await bodyOf(ctx, s.options.maxBodySize);
    } catch (err) {
      if (err instanceof TooLarge) {
        s.context.log.debug(`request body is too large, maxBodySize: ${s.options.maxBodySize}`);
        answerEmpty(ctx, 401);
      } else {
        answerEmpty(ctx, 500);
      }
      return undefined;
    }
    // The service still gets the body: the proxy sends these bytes instead of the consumed stream.
    replaceRequestBody(ctx, body);
  }
  const options: Dispatcher.RequestOptions = {
    path: s.path,
    method: (s.options.preserveRequestMethod ? req.method : 'GET') as Dispatcher.HttpMethod,
    headers: authRequestHeaders(req, ctx.wharf, s.policy),
    // An empty body is no body, as Go's reader reports it (EOF at once).
    body: body !== undefined && body.length > 0 ? body : null,
  };
  let response: Dispatcher.ResponseData;
  try {
    response = await s.pool.request(options);
  } catch (err) {
    s.context.log.error({ err }, `error calling ${s.address.href}`);
    answerEmpty(ctx, 500);
    return undefined;
  }
  try {
    const answerBody = await readAll(response.body, s.options.maxResponseBodySize ?? -1);
    return { status: response.statusCode, headers: response.headers as IncomingHttpHeaders, body: answerBody };
  } catch (err) {
    if (err instanceof TooLarge) {
      s.context.log.debug(`response body is too large, maxResponseBodySize: ${s.options.maxResponseBodySize}`);
      answerEmpty(ctx, 401);
    } else {
      s.context.log.debug({ err }, `error reading the body of ${s.address.href}`);
      answerEmpty(ctx, 500);
    }
    return undefined;
  }
}

function createPool(address: URL, tls: ForwardAuthTLS | undefined): Pool {
  const connect = upstreamConnector({ ...readTLS(tls), dialTimeoutMs: AUTH_TIMEOUT_MS });
  return new Pool(address.origin, {
    connect,
    headersTimeout: AUTH_TIMEOUT_MS,
    bodyTimeout: AUTH_TIMEOUT_MS,
    keepAliveTimeout: IDLE_TIMEOUT_MS,
    keepAliveMaxTimeout: IDLE_TIMEOUT_MS,
  });
}

/** Warnings Traefik logs when the middleware is built. */
function warnAtCreate(options: ForwardAuthConfig, context: PluginContext): void {
  if (options.tls?.caOptional !== undefined) {
    context.log.warn('tls.caOptional is deprecated and ignored: TLS client authentication is a server-side option; remove it');
  }
  if (options.forwardBody && options.maxBodySize < 0) {
    context.log.warn('maxBodySize is not set with forwardBody: true, so request bodies of any size are read into memory; set a limit in bytes');
  }
  if (options.maxResponseBodySize === undefined || options.maxResponseBodySize < 0) {
    context.log.warn("maxResponseBodySize is not set, so the authentication server's answers of any size are read into memory; set a limit in bytes");
  }
  if (options.trustForwardHeader === undefined) {
    context.log.warn('trustForwardHeader is not set: the legacy behaviour replaces X-Forwarded-For/-Proto/-Host/-Uri/-Method but passes the other X-Forwarded headers on; set it to false to send only the gateway\'s own, or true to trust those the entrypoint accepted');
  }
}

export default definePlugin({
  name: 'forwardAuth',
  description: 'Delegate authentication to an external server: 2xx lets the request through, any other answer goes to the client.',
  schema,
  validate(options) {
    parseAddress(options.address);
    if (options.authResponseHeadersRegex) compileGoRegexp('authResponseHeadersRegex', options.authResponseHeadersRegex);
    readTLS(options.tls);
    if (options.authSigninURL !== undefined) {
      try {
        new URL(options.authSigninURL, 'http://x');
      } catch {
        throw new Error(`authSigninURL: not a URL, got ${JSON.stringify(options.authSigninURL)}`);
      }
    }
  },
  create(options, context) {
    const address = parseAddress(options.address);
    const pool = createPool(address, options.tls);
    context.signal.addEventListener('abort', () => void pool.close().catch(() => undefined), { once: true });
    warnAtCreate(options, context);
    const s: Settings = {
      address,
      path: `${address.pathname}${address.search}`,
      pool,
      policy: headerPolicy(options.trustForwardHeader, options.authRequestHeaders),
      responseHeaders: options.authResponseHeaders.map((h) => h.toLowerCase()),
      responseRegex: !options.authResponseHeadersRegex ? undefined : compileGoRegexp('authResponseHeadersRegex', options.authResponseHeadersRegex),
      authCookieNames: new Set(options.addAuthCookiesToResponse),
      headerField: options.headerField?.toLowerCase(),
      signinURL: options.authSigninURL,
      options,
      context,
    };
    return async function forwardAuth(ctx: WharfContext, next: Next): Promise<void> {
      const answer = await ask(ctx, s);
      if (answer === undefined) {
        ctx.wharf.rejectedBy = context.name;
        return;
      }
      if (s.headerField !== undefined) {
        const user = answer.headers[s.headerField];
        const name = Array.isArray(user) ? user[0] : user;
        if (name !== undefined) ctx.state.clientUsername = name;
      }
      if (answer.status < 200 || answer.status >= 300) {
        ctx.wharf.rejectedBy = context.name;
        if (s.signinURL !== undefined && answer.status === 401) redirectToSignin(ctx, s.signinURL);
        else relay(ctx, answer, s);
        return;
      }
      copyAuthHeaders(ctx.req, answer.headers, s.responseHeaders, s.responseRegex);
      const authCookies = s.authCookieNames.size === 0 ? [] : setCookieLines(answer.headers['set-cookie']).filter((l) => cookieName(l) !== undefined);
      if (authCookies.length === 0) {
        await next();
        return;
      }
      addAuthCookies(ctx, authCookies, s.authCookieNames);
      await next();
      // An answer made in the chain (not streamed) gets the cookies too.
      if (ctx.respond !== false && !ctx.res.headersSent) {
        const headers = { 'set-cookie': ctx.response.get('Set-Cookie') as unknown as string[] | string | undefined };
        replaceCookies(headers, authCookies, s.authCookieNames);
        if (headers['set-cookie'] === undefined) ctx.remove('Set-Cookie');
        else ctx.set('Set-Cookie', headers['set-cookie']);
      }
    };
  },
});
