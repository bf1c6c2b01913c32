// Accept-Encoding negotiation as Traefik 3.7 does it (pkg/middlewares/compress/acceptencoding.go): q-values,
// `*` and `identity`, q=0 refused, ties broken by the order of `encodings` (`*` wins a tie, identity loses it).

export const ENCODINGS = ['gzip', 'br', 'zstd'] as const;
export type Encoding = (typeof ENCODINGS)[number];

export function isEncoding(value: string): value is Encoding {
  return (ENCODINGS as readonly string[]).includes(value);
}

/** What the client gets: an encoding, or identity (it asked for none), or not_acceptable (nothing we offer). */
export type Choice = Encoding | 'identity' | 'not_acceptable';

const WILDCARD = '*';
const IDENTITY = 'identity';

/** Go's strconv.ParseFloat for the decimal forms a q-value takes; anything else reads as 0 (refused), as in Traefik. */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/;

function weightOf(text: string): number {
  return DECIMAL.test(text) ? Number(text) : 0;
}

/** Clients send few distinct Accept-Encoding values; past this many the remembered choices are dropped. */
const CHOICES_KEPT = 256;
/** Longer values are worked out each time, so odd clients cannot fill the memory with them. */
const CHOICE_KEY_MAX = 200;

export class Negotiator {
  /** Choices by header value: the per-request cost is one map lookup. */
  private readonly choices = new Map<string, Choice>();
  /** Tie-break rank: `*` first (the most permissive), then `encodings` in order, identity last. */
  private readonly rank: ReadonlyMap<string, number>;

  constructor(
    private readonly encodings: readonly Encoding[],
    private readonly defaultEncoding?: Encoding,
  ) {
    this.rank = new Map<string, number>([[WILDCARD, -1], ...encodings.map((e, i) => [e, i] as [string, number]), [IDENTITY, encodings.length]]);
  }

  /** The choice for a request's Accept-Encoding (undefined: the header is absent). */
  negotiate(acceptEncoding: string | undefined): Choice {
    if (acceptEncoding === undefined) return this.defaultEncoding ?? IDENTITY;
    // RFC 9110 §12.5.3: an empty field value means no content coding is wanted.
    if (acceptEncoding === '') return IDENTITY;
    if (acceptEncoding.length > CHOICE_KEY_MAX) return this.choose(acceptEncoding);
    let choice = this.choices.get(acceptEncoding);
    if (choice === undefined) {
      if (this.choices.size >= CHOICES_KEPT) this.choices.clear();
      choice = this.choose(acceptEncoding);
      this.choices.set(acceptEncoding, choice);
    }
    return choice;
  }

  private choose(acceptEncoding: string): Choice {
    const best = this.best(acceptEncoding.replace(/[ \t]/g, '').toLowerCase());
    if (best === undefined) return 'not_acceptable';
    if (best === WILDCARD) return this.defaultEncoding ?? this.encodings[0]!;
    return best as Choice;
  }

  /** The acceptable entry with the highest weight, ties to the lowest rank; entries we do not know are skipped. */
  private best(header: string): string | undefined {
    let bestName: string | undefined;
    let bestWeight = 0;
    let bestRank = 0;
    for (let start = 0; start <= header.length; ) {
      const comma = header.indexOf(',', start);
      const end = comma < 0 ? header.length : comma;
      const semicolon = header.indexOf(';', start);
      const nameEnd = semicolon >= 0 && semicolon < end ? semicolon : end;
      const name = header.slice(start, nameEnd);
      const rank = this.rank.get(name);
      if (rank !== undefined) {
        // Only a parameter list that starts with q= carries a weight; `gzip;level=1` weighs 1.
        const weight = nameEnd < end && header.startsWith('q=', nameEnd + 1) ? weightOf(header.slice(nameEnd + 3, end)) : 1;
        if (weight !== 0 && (bestName === undefined || weight > bestWeight || (weight === bestWeight && rank < bestRank))) {
          bestName = name;
          bestWeight = weight;
          bestRank = rank;
        }
      }
      start = end + 1;
    }
    return bestName;
  }
}
