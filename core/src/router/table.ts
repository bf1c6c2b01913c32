// Per-entrypoint routing table: picks the highest-priority matching router without testing every rule.
import type { RequestFacts } from './request-facts.js';
import type { CompiledRule } from './rule/index.js';

export interface RouteEntry<T> {
  name: string;
  rule: CompiledRule;
  /** Explicit priority when > 0, else the rule's length (Traefik's default). */
  priority: number;
  value: T;
}

const NO_RANKS: readonly number[] = [];

/**
 * Built once per configuration. Routers whose rule requires exact hosts are indexed by host; a request only
 * walks its host's bucket merged with the host-less routers, in the same order a full linear scan would use,
 * so the result is identical to testing every rule in priority order.
 */
export class RoutingTable<T> {
  /** Entries in evaluation order; an entry's index here is its rank. */
  readonly #ordered: readonly RouteEntry<T>[];
  readonly #byHost = new Map<string, number[]>();
  readonly #general: number[] = [];

  constructor(entries: RouteEntry<T>[]) {
    this.#ordered = sortByPriority(entries);
    this.#ordered.forEach((entry, rank) => this.#addToIndex(entry, rank));
  }

  get size(): number {
    return this.#ordered.length;
  }

  match(facts: RequestFacts): RouteEntry<T> | undefined {
    const bucket = this.#byHost.get(facts.host) ?? NO_RANKS;
    const general = this.#general;
    let b = 0;
    let g = 0;
    // Both lists are ascending ranks: a two-way merge visits candidates in global priority order.
    while (b < bucket.length || g < general.length) {
      const takeBucket = g >= general.length || (b < bucket.length && bucket[b]! < general[g]!);
      const rank = takeBucket ? bucket[b++]! : general[g++]!;
      const entry = this.#ordered[rank]!;
      if (entry.rule.match(facts)) return entry;
    }
    return undefined;
  }

  #addToIndex(entry: RouteEntry<T>, rank: number): void {
    const hosts = entry.rule.hosts;
    if (hosts === null) {
      this.#general.push(rank);
      return;
    }
    // Ranks arrive in ascending order, so every bucket stays sorted without a sort.
    for (const host of new Set(hosts)) {
      const bucket = this.#byHost.get(host);
      if (bucket) bucket.push(rank);
      else this.#byHost.set(host, [rank]);
    }
  }
}

/** Traefik's default priority: the rule's length in bytes (Go's len), which equals its length for ASCII rules. */
export function effectivePriority(entry: Pick<RouteEntry<unknown>, 'priority' | 'rule'>): number {
  return entry.priority > 0 ? entry.priority : Buffer.byteLength(entry.rule.rule, 'utf8');
}

/** Highest priority first; equal priorities by name so the outcome never depends on configuration order. */
export function sortByPriority<T>(entries: readonly RouteEntry<T>[]): RouteEntry<T>[] {
  return entries
    .map((entry) => ({ entry, priority: effectivePriority(entry) }))
    .sort((a, b) => b.priority - a.priority || compareNames(a.entry.name, b.entry.name))
    .map(({ entry }) => entry);
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
