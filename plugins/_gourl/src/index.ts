// Go's net/url and regexp behaviour that Traefik's rewrite and redirect middlewares rely on, for Wharf's plugins.
export { EscapeError, cleanPath, encodedPrefixLength, ensureLeadingSlash, escapePath, escapedPath, joinPath, sanitized, setPath, unescapePath, type GoPath } from './path.js';
export { addHeader, applyStrip, goHttpError, readURL, requestURI, writeURL, UNCHANGED, type GoRequestURL, type Strip } from './request.js';
export { canonicalHeaderKey } from './header.js';
export { compileGoRegexp, expand, findSubmatch, matchesGo, replaceAllGo, type GoRegexp } from './regexp.js';
