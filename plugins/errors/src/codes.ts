// Status code ranges as Traefik writes them (`500`, `500-599`), and statusRewrites (range → new code).

/** Inclusive [low, high] pairs. */
export type StatusRanges = ReadonlyArray<readonly [number, number]>;

export interface StatusRewrite {
  readonly from: readonly [number, number];
  readonly to: number;
}

// Go's net/http accepts final status codes 100–999 (WriteHeader panics outside); so do Traefik's ranges.
const CODE = /^\s*(\d{3})\s*(?:-\s*(\d{3})\s*)?$/;

/** One `500` or `500-599`; throws naming `field` and the value. */
export function parseRange(field: string, text: string): readonly [number, number] {
  const m = CODE.exec(text);
  if (!m) throw new Error(`${field}: expected a status code or a range such as 404 or 500-599, got ${JSON.stringify(text)}`);
  const low = Number(m[1]);
  const high = m[2] === undefined ? low : Number(m[2]);
  if (low < 100 || high < 100) throw new Error(`${field}: status codes go from 100 to 999, got ${JSON.stringify(text)}`);
  if (high < low) throw new Error(`${field}: the range ${JSON.stringify(text)} is reversed (write ${high}-${low})`);
  return [low, high];
}

/** `status`: each entry a code or a range; a comma inside an entry separates several, as the docs allow (`500,502`). */
export function parseStatus(entries: readonly string[]): StatusRanges {
  const ranges: Array<readonly [number, number]> = [];
  entries.forEach((entry, i) => {
    for (const part of entry.split(',')) ranges.push(parseRange(`status[${i}]`, part));
  });
  return ranges;
}

export function inRanges(ranges: StatusRanges, status: number): boolean {
  for (const [low, high] of ranges) if (status >= low && status <= high) return true;
  return false;
}

/**
 * `statusRewrites`: `"418": 404`, `"502-504": 500`. Traefik walks a Go map, so with overlapping keys the code a
 * status gets changes from one request to the next; here overlapping keys are an error.
 */
export function parseRewrites(map: Readonly<Record<string, number>>): StatusRewrite[] {
  const rewrites: StatusRewrite[] = [];
  for (const [key, to] of Object.entries(map)) {
    const from = parseRange(`statusRewrites.${key}`, key);
    const clash = rewrites.find((r) => from[0] <= r.from[1] && r.from[0] <= from[1]);
    if (clash) throw new Error(`statusRewrites.${key}: overlaps ${formatRange(clash.from)}; a status may match one entry only`);
    rewrites.push({ from, to });
  }
  return rewrites;
}

export function rewrite(rewrites: readonly StatusRewrite[], status: number): number {
  for (const { from, to } of rewrites) if (status >= from[0] && status <= from[1]) return to;
  return status;
}

function formatRange([low, high]: readonly [number, number]): string {
  return low === high ? `"${low}"` : `"${low}-${high}"`;
}
