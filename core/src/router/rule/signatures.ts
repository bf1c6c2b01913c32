// The matcher names a rule may use and how many arguments each accepts, shared by the parser and the matchers;
// MatcherSet lets the same parser read another table (the Docker/Swarm constraints' Label and LabelRegex).

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

const ONE: Arity = { min: 1, max: 1 };
const ONE_OR_MORE: Arity = { min: 1, max: Infinity };
const ONE_OR_TWO: Arity = { min: 1, max: 2 };
const EXACTLY_TWO: Arity = { min: 2, max: 2 };
const PAIRS: Arity = { min: 2, max: Infinity };

/** Traefik v3's matchers (pkg/muxer/http/matcher.go): one value each; several values are written with `||`. */
export const MATCHER_ARITY: Readonly<Record<MatcherName, Arity>> = {
  ClientIP: ONE,
  Header: EXACTLY_TWO,
  HeaderRegexp: EXACTLY_TWO,
  Host: ONE,
  HostRegexp: ONE,
  Method: ONE,
  Path: ONE,
  PathPrefix: ONE,
  PathRegexp: ONE,
  Query: ONE_OR_TWO,
  QueryRegexp: ONE_OR_TWO,
};

/** Traefik v2's matchers (`ruleSyntax: v2`, pkg/muxer/http/matcher_v2.go): lists of values, gorilla/mux templates. */
export type MatcherNameV2 = 'ClientIP' | 'Headers' | 'HeadersRegexp' | 'Host' | 'HostHeader' | 'HostRegexp' | 'Method' | 'Path' | 'PathPrefix' | 'Query';

export const MATCHER_ARITY_V2: Readonly<Record<MatcherNameV2, Arity>> = {
  ClientIP: ONE_OR_MORE,
  Headers: PAIRS,
  HeadersRegexp: PAIRS,
  Host: ONE_OR_MORE,
  HostHeader: ONE_OR_MORE,
  HostRegexp: ONE_OR_MORE,
  Method: ONE_OR_MORE,
  Path: ONE_OR_MORE,
  PathPrefix: ONE_OR_MORE,
  Query: ONE_OR_MORE,
};

/**
 * A table of matcher names and arities a parser accepts: the rule matchers, or the provider constraints'
 * Label/LabelRegex. Names are matched in any case, as Traefik's rule parser registers them.
 */
export class MatcherSet<Name extends string> {
  /** Canonical names, sorted, for messages. */
  readonly names: readonly Name[];
  readonly #byLowerCase: ReadonlyMap<string, Name>;

  constructor(readonly arity: Readonly<Record<Name, Arity>>) {
    this.names = (Object.keys(arity) as Name[]).sort();
    this.#byLowerCase = new Map(this.names.map((name) => [name.toLowerCase(), name]));
  }

  /** Canonical spelling of a name written in any case, or undefined when unknown. */
  canonical(name: string): Name | undefined {
    return this.#byLowerCase.get(name.toLowerCase());
  }

  /** Closest known name for a did-you-mean hint, if the misspelling is small enough to be a typo. */
  suggest(name: string): Name | undefined {
    const lower = name.toLowerCase();
    let best: Name | undefined;
    let bestDistance = Infinity;
    for (const candidate of this.names) {
      const distance = editDistance(lower, candidate.toLowerCase());
      if (distance < bestDistance) {
        best = candidate;
        bestDistance = distance;
      }
    }
    return bestDistance <= Math.max(2, Math.floor(name.length / 4)) ? best : undefined;
  }
}

export const RULE_MATCHERS = new MatcherSet(MATCHER_ARITY);
export const RULE_MATCHERS_V2 = new MatcherSet(MATCHER_ARITY_V2);

export function describeArity(arity: Arity): string {
  if (arity === PAIRS) return 'name/value pairs';
  if (arity.max === Infinity) return `at least ${plural(arity.min, 'argument')}`;
  if (arity.min === arity.max) return `exactly ${plural(arity.min, 'argument')}`;
  return `${arity.min} or ${arity.max} arguments`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
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
