// Traefik's HTTP status ranges (`503`, `500-599`) for retry.status.

const RANGE = /^\s*(\d{3})\s*(?:-\s*(\d{3})\s*)?$/;

/**
 * Parses `503` or `500-599` entries into flat [low, high, low, high, …] bounds; throws naming the entry
 * when one is not a status code or range between 100 and 599.
 */
export function parseStatusRanges(entries: readonly string[]): number[] {
  const bounds: number[] = [];
  for (const entry of entries) {
    const match = RANGE.exec(entry);
    const low = match === null ? NaN : Number(match[1]);
    const high = match === null ? NaN : Number(match[2] ?? match[1]);
    if (!(low >= 100 && high <= 599 && low <= high)) {
      throw new Error(`retry.status: expected a status code or range between 100 and 599 such as 503 or 500-599, got ${JSON.stringify(entry)}`);
    }
    bounds.push(low, high);
  }
  return bounds;
}
