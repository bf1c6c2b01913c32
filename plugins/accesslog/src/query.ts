// fields.queryParameters: which query parameters of RequestPath reach the log (keep, drop, redact).
import { REDACTED } from './headers.js';
import type { HeaderModeValue } from './schema.js';

export interface QueryConfig {
  defaultMode: HeaderModeValue;
  names: Record<string, HeaderModeValue>;
}

/**
 * Rewrites a logged request target's query. Traefik's `defaultMode: drop` logs the path alone; Wharf also
 * drops or redacts single parameters (`names.token=redact` → `?token=REDACTED`), so a path with a secret in its
 * query can still be logged. Undefined when every parameter is kept: the target is then logged as sent.
 */
export function compileQueryPolicy(config: QueryConfig): ((target: string) => string) | undefined {
  const names = new Map(Object.entries(config.names));
  const { defaultMode } = config;
  if (defaultMode === 'keep' && [...names.values()].every((mode) => mode === 'keep')) return undefined;
  return function filterQuery(target: string): string {
    const mark = target.indexOf('?');
    if (mark === -1) return target;
    const hash = target.indexOf('#', mark);
    const query = target.slice(mark + 1, hash === -1 ? undefined : hash);
    const kept: string[] = [];
    for (const pair of query.split('&')) {
      const eq = pair.indexOf('=');
      const name = eq === -1 ? pair : pair.slice(0, eq);
      const mode = names.get(name) ?? defaultMode;
      if (mode === 'keep') kept.push(pair);
      else if (mode === 'redact') kept.push(`${name}=${REDACTED}`);
    }
    const path = target.slice(0, mark);
    const fragment = hash === -1 ? '' : target.slice(hash);
    return kept.length === 0 ? path + fragment : `${path}?${kept.join('&')}${fragment}`;
  };
}
