// Which count a request belongs to: Traefik's sourceCriterion (GetSourceExtractor), defaulting to requestHost for
// inFlightReq. The X-Forwarded-For strategies are core's, shared with rateLimit and ipAllowList.
import { checkSourceCriterion as checkCriterion, clientIPKey, type WharfContext } from '@wharf/core';
import type { InFlightReqConfig } from './schema.js';

export type SourceOf = (ctx: WharfContext) => string;

/** One criterion at most, addresses that parse; messages name the fields. */
export function checkSourceCriterion(options: InFlightReqConfig): void {
  checkCriterion(options.sourceCriterion);
}

/** The key function, built once per configuration generation. */
export function sourceOf(options: InFlightReqConfig): SourceOf {
  const criterion = options.sourceCriterion ?? {};
  if (criterion.requestHeaderName !== undefined) {
    const name = criterion.requestHeaderName.toLowerCase();
    return function headerSource(ctx) {
      const value = ctx.req.headers[name];
      // Without the header every request shares the empty key, as oxy's request.header extractor gives.
      return `hdr:${Array.isArray(value) ? value.join(',') : (value ?? '')}`;
    };
  }
  if (criterion.ipStrategy === undefined) {
    return function hostSource(ctx) {
      return `host:${ctx.host.toLowerCase()}`;
    };
  }
  return clientIPKey(criterion.ipStrategy);
}
