// Load-balancer strategies (loadBalancer.strategy, as in Traefik 3.7): wrr, p2c, hrw and leasttime pickers.
import { WharfError } from '../errors.js';
import { SmoothWeightedBalancer, type Weighted } from './balancer.js';

/** Traefik 3.7's `loadBalancer.strategy` values. */
export const STRATEGIES = ['wrr', 'p2c', 'hrw', 'leasttime'] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** What a strategy may know about a server besides its weight: kept up to date by the load balancer. */
export interface ServerLoad extends Weighted {
  /** The server's identity (its URL): hrw hashes it. */
  readonly url: string;
  /** Requests being forwarded to it now (p2c, leasttime). */
  inflight: number;
  /** Recent times to the response head, in ms (leasttime). */
  readonly responseTimes: ResponseTimes;
}

/** Picks the next server among those `isAvailable` accepts; `key` is the client's address (hrw). */
export interface Picker<T> {
  next(isAvailable: ((item: T) => boolean) | undefined, key: string): T | undefined;
  /** The picker reads `inflight` (the load balancer counts requests in flight only then). */
  readonly tracksLoad: boolean;
  /** The picker reads response times (the load balancer measures them only then). */
  readonly tracksTime: boolean;
}

export function createPicker<T extends ServerLoad>(strategy: Strategy, items: readonly T[]): Picker<T> {
  switch (strategy) {
    case 'wrr':
      return wrrPicker(items);
    case 'p2c':
      return new PowerOfTwoChoices(items);
    case 'hrw':
      return new HighestRandomWeight(items);
    case 'leasttime':
      return new LeastTime(items);
    default:
      throw new WharfError('WHARF_ERR_DYNAMIC_CONFIG', `strategy: expected one of ${STRATEGIES.join(', ')}, got ${JSON.stringify(strategy)}`);
  }
}

function wrrPicker<T extends ServerLoad>(items: readonly T[]): Picker<T> {
  const balancer = new SmoothWeightedBalancer(items);
  return { next: (isAvailable) => balancer.next(isAvailable), tracksLoad: false, tracksTime: false };
}

/** Servers with a share of the traffic: weight 0 means never chosen, whatever the strategy. */
function weighted<T extends Weighted>(items: readonly T[]): T[] {
  return items.filter((item) => (item.weight ?? 1) > 0);
}

/**
 * Power of two random choices (Traefik's p2c): two distinct available servers drawn at random, the one with fewer
 * requests in flight wins (the first drawn on a tie). Weights only decide who may be drawn.
 */
export class PowerOfTwoChoices<T extends ServerLoad> implements Picker<T> {
  readonly tracksLoad = true;
  readonly tracksTime = false;
  readonly #items: T[];
  /** Reused per pick: the available servers. */
  readonly #healthy: T[] = [];

  constructor(items: readonly T[], private readonly random: (n: number) => number = randomInt) {
    this.#items = weighted(items);
  }

  next(isAvailable: ((item: T) => boolean) | undefined): T | undefined {
    const healthy = isAvailable === undefined ? this.#items : this.#available(isAvailable);
    if (healthy.length <= 1) return healthy[0];
    const first = this.random(healthy.length);
    let second = this.random(healthy.length);
    if (second === first) second = (second + 1) % healthy.length;
    const a = healthy[first]!;
    const b = healthy[second]!;
    return b.inflight < a.inflight ? b : a;
  }

  #available(isAvailable: (item: T) => boolean): T[] {
    const healthy = this.#healthy;
    healthy.length = 0;
    for (const item of this.#items) if (isAvailable(item)) healthy.push(item);
    return healthy;
  }
}

function randomInt(n: number): number {
  return Math.floor(Math.random() * n);
}

/**
 * Highest random weight (rendezvous hashing, Traefik's hrw): every server scores hash(server, client address) scaled
 * by its weight, the highest wins. A client keeps its server while that server is available; when one leaves, only
 * its clients move.
 */
export class HighestRandomWeight<T extends Weighted & { readonly url: string }> implements Picker<T> {
  readonly tracksLoad = false;
  readonly tracksTime = false;
  readonly #items: T[];
  /** FNV-1a state after each server's URL: the client key continues the hash. */
  readonly #seeds: Uint32Array;

  constructor(items: readonly T[]) {
    this.#items = weighted(items);
    this.#seeds = Uint32Array.from(this.#items, (item) => fnv1a(FNV_OFFSET, item.url));
  }

  next(isAvailable: ((item: T) => boolean) | undefined, key: string): T | undefined {
    let best: T | undefined;
    let bestScore = -1;
    for (let i = 0; i < this.#items.length; i++) {
      const item = this.#items[i]!;
      if (isAvailable !== undefined && !isAvailable(item)) continue;
      const score = hrwScore(this.#seeds[i]!, key, item.weight ?? 1);
      if (score > bestScore) {
        bestScore = score;
        best = item;
      }
    }
    return best;
  }
}

const FNV_OFFSET = 0x811c9dc5;

function fnv1a(seed: number, text: string): number {
  let hash = seed;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Weighted rendezvous score: weight / −ln(u), u the hash mapped into (0, 1) — Traefik's formula. */
export function hrwScore(seed: number, key: string, weight: number): number {
  // A final avalanche (murmur3's fmix32) so that keys differing in one character spread over the whole range.
  let h = fnv1a(seed, key);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  const u = ((h >>> 0) + 0.5) / 4294967296;
  return weight / -Math.log(u);
}

/** The last SAMPLES times to the response head of one server, in ms. */
export class ResponseTimes {
  static readonly SAMPLES = 100;
  readonly #samples = new Float64Array(ResponseTimes.SAMPLES);
  #index = 0;
  #count = 0;
  #sum = 0;

  add(ms: number): void {
    if (this.#count < ResponseTimes.SAMPLES) this.#count++;
    else this.#sum -= this.#samples[this.#index]!;
    this.#samples[this.#index] = ms;
    this.#sum += ms;
    this.#index = (this.#index + 1) % ResponseTimes.SAMPLES;
  }

  /** Mean of the samples; 0 before the first one (a new server gets tried). */
  get average(): number {
    return this.#count === 0 ? 0 : this.#sum / this.#count;
  }
}

/**
 * Least time (Traefik's leasttime): the lowest average time to the response head × (1 + requests in flight),
 * divided by the weight; ties go to weighted round-robin (earliest deadline first, as Traefik).
 */
export class LeastTime<T extends ServerLoad> implements Picker<T> {
  readonly tracksLoad = true;
  readonly tracksTime = true;
  readonly #items: T[];
  readonly #deadlines: Float64Array;
  #current = 0;
  readonly #candidates: number[] = [];

  constructor(items: readonly T[]) {
    this.#items = weighted(items);
    this.#deadlines = new Float64Array(this.#items.length);
    for (let i = 0; i < this.#items.length; i++) this.#deadlines[i] = this.#current += 1 / (this.#items[i]!.weight ?? 1);
  }

  next(isAvailable: ((item: T) => boolean) | undefined): T | undefined {
    const candidates = this.#candidates;
    candidates.length = 0;
    let min = Infinity;
    for (let i = 0; i < this.#items.length; i++) {
      const item = this.#items[i]!;
      if (isAvailable !== undefined && !isAvailable(item)) continue;
      const score = (item.responseTimes.average * (1 + item.inflight)) / (item.weight ?? 1);
      if (score < min) {
        min = score;
        candidates.length = 0;
      }
      if (score === min) candidates.push(i);
    }
    if (candidates.length <= 1) return candidates.length === 0 ? undefined : this.#items[candidates[0]!];
    return this.#items[this.#earliestDeadline(candidates)];
  }

  #earliestDeadline(candidates: readonly number[]): number {
    let chosen = candidates[0]!;
    for (const i of candidates) if (this.#deadlines[i]! < this.#deadlines[chosen]!) chosen = i;
    const deadline = this.#deadlines[chosen]! + 1 / (this.#items[chosen]!.weight ?? 1);
    this.#deadlines[chosen] = deadline;
    if (deadline > this.#current) this.#current = deadline;
    return chosen;
  }
}
