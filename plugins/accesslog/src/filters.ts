// accessLog.filters: which finished requests get a line (status codes, retried, slower than minDuration).
import type { AccessLogConfig } from './schema.js';

export type StatusRange = readonly [from: number, to: number];

/** `["200", "300-302,500-599"]` → [[200,200],[300,302],[500,599]]; throws naming the bad entry. */
export function parseStatusCodes(entries: readonly string[]): StatusRange[] {
  const ranges: StatusRange[] = [];
  for (const entry of entries.flatMap((e) => e.split(','))) {
    const text = entry.trim();
    if (text === '') continue;
    const m = /^(\d{3})(?:-(\d{3}))?$/.exec(text);
    const from = m ? Number(m[1]) : NaN;
    const to = m?.[2] !== undefined ? Number(m[2]) : from;
    if (!m || from < 100 || to > 599 || from > to) {
      throw new Error(`accessLog.filters.statusCodes: '${text}' is not a status code or range like 200 or 500-599`);
    }
    ranges.push([from, to]);
  }
  return ranges;
}

/** The keep decision for one line; Traefik's rule: no filter set keeps all, otherwise any match keeps. */
export type LineFilter = (status: number, retryAttempts: number, durationNs: number) => boolean;

export function compileFilter(filters: AccessLogConfig['filters']): LineFilter {
  const ranges = parseStatusCodes(filters.statusCodes);
  const minDurationNs = filters.minDuration * 1e6;
  const byRetry = filters.retryAttempts;
  if (ranges.length === 0 && !byRetry && minDurationNs === 0) return function keepAll() {
    return true;
  };
  return function matchesFilters(status, retryAttempts, durationNs) {
    for (const [from, to] of ranges) if (status >= from && status <= to) return true;
    if (byRetry && retryAttempts > 0) return true;
    return minDurationNs > 0 && durationNs > minDurationNs;
  };
}
