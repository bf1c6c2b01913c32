// Smooth weighted round-robin (nginx's algorithm) used to pick a server or a child service.
import { WharfError } from '../errors.js';

/** Anything the balancer can pick; `weight` defaults to 1 and 0 means "never chosen". */
export interface Weighted {
  readonly weight?: number;
}

/**
 * nginx's smooth weighted round-robin (ngx_http_upstream_get_peer): each pick adds every
 * available peer's weight to its running score, takes the highest score (first one on ties)
 * and subtracts the total from it. Weights 5,1,1 give a a b a c a a instead of bursts.
 */
export class SmoothWeightedBalancer<T extends Weighted> {
  readonly #items: readonly T[];
  readonly #weights: Int32Array;
  readonly #current: Float64Array;

  constructor(items: readonly T[]) {
    const kept = items.filter((item) => weightOf(item) > 0);
    this.#items = kept;
    this.#weights = Int32Array.from(kept, weightOf);
    this.#current = new Float64Array(kept.length);
  }

  /** Number of items with a non-zero weight. */
  get size(): number {
    return this.#items.length;
  }

  /** Next item among those `isAvailable` accepts (all when omitted); undefined when none is. */
  next(isAvailable?: (item: T) => boolean): T | undefined {
    const items = this.#items;
    const weights = this.#weights;
    const current = this.#current;
    let total = 0;
    let best = -1;
    for (let i = 0; i < items.length; i++) {
      // Unavailable peers are skipped without accumulating, as nginx does for down peers.
      // Indexes stay within the three arrays, built together with one entry per item.
      if (isAvailable !== undefined && !isAvailable(items[i]!)) continue;
      current[i]! += weights[i]!;
      total += weights[i]!;
      if (best === -1 || current[i]! > current[best]!) best = i;
    }
    if (best === -1) return undefined;
    current[best]! -= total;
    return items[best];
  }
}

function weightOf(item: Weighted): number {
  const weight = item.weight ?? 1;
  if (!Number.isInteger(weight) || weight < 0) {
    throw new WharfError('WHARF_ERR_DYNAMIC_CONFIG', `weight must be a non-negative integer, got ${String(weight)}`);
  }
  return weight;
}
