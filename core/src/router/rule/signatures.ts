// The matcher names a rule may use and how many arguments each accepts, shared by the parser and the matchers.

export type MatcherName =
  | 'ClientIP'
  | 'Header'
  | 'HeaderRegexp'
  | 'Host'
  | 'HostRegexp'
  | 'Method'
  | 'Path'
  | 'PathPrefix'
  | 'PathRegexp'
  | 'Query'
  | 'QueryRegexp';

/** Allowed argument counts; `max: Infinity` marks Traefik v2's "any of these values" form. */
export interface Arity {
  readonly min: number;
  readonly max: number;
}

const ONE_OR_MORE: Arity = { min: 1, max: Infinity };
const EXACTLY_TWO: Arity = { min: 2, max: 2 };

export const MATCHER_ARITY: Readonly<Record<MatcherName, Arity>> = {
  ClientIP: ONE_OR_MORE,
  Header: EXACTLY_TWO,
  HeaderRegexp: EXACTLY_TWO,
  Host: ONE_OR_MORE,
  HostRegexp: ONE_OR_MORE,
  Method: ONE_OR_MORE,
  Path: ONE_OR_MORE,
  PathPrefix: ONE_OR_MORE,
  PathRegexp: ONE_OR_MORE,
  Query: { min: 1, max: 2 },
  QueryRegexp: EXACTLY_TWO,
};

export const MATCHER_NAMES: readonly MatcherName[] = Object.keys(MATCHER_ARITY).sort() as MatcherName[];

const BY_LOWER_CASE = new Map<string, MatcherName>(MATCHER_NAMES.map((name) => [name.toLowerCase(), name]));

/** Canonical spelling of a matcher name written in any case, or undefined when unknown. */
export function canonicalMatcherName(name: string): MatcherName | undefined {
  return BY_LOWER_CASE.get(name.toLowerCase());
}

export function describeArity(arity: Arity): string {
  if (arity.max === Infinity) return `at least ${plural(arity.min, 'argument')}`;
  if (arity.min === arity.max) return `exactly ${plural(arity.min, 'argument')}`;
  return `${arity.min} or ${arity.max} arguments`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** Closest known name for a did-you-mean hint, if the misspelling is small enough to be a typo. */
export function suggestMatcherName(name: string): MatcherName | undefined {
  const lower = name.toLowerCase();
  let best: MatcherName | undefined;
  let bestDistance = Infinity;
  for (const candidate of MATCHER_NAMES) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 4)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}
