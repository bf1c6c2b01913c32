// Go behaviour Traefik's middlewares rely on (net/url, regexp, header keys, oxy's predicate expressions), for Wharf's plugins.
export { EscapeError, cleanPath, encodedPrefixLength, ensureLeadingSlash, escapePath, escapedPath, joinPath, sanitized, setPath, unescapePath, type GoPath } from './path.js';
export { addHeader, applyStrip, goHttpError, readURL, requestURI, writeURL, UNCHANGED, type GoRequestURL, type Strip } from './request.js';
export { canonicalHeaderKey } from './header.js';
export { compileGoRegexp, expand, findSubmatch, matchesGo, replaceAllGo, type GoRegexp } from './regexp.js';
export { ExprSyntaxError, parseGoExpression, type BinaryOperator, type ComparisonOperator, type ExprNode, type ParseOptions } from './expression.js';
