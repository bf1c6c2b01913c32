// Per-entrypoint routing table: picks the highest-priority matching router without testing every rule.
import type { RequestFacts } from './request-facts.js';
import type { CompiledRule } from './rule/index.js';

export interface RouteEntry<T> {
  name: string;
  rule: CompiledRule;
  /** The configured priority; the table ranks by routerPriority(priority, rule), so 0 means the rule's length. */
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

/**
 * Traefik's router priority, the one source for routing order and for the priority the API shows: 0 or absent
 * becomes the rule's length in bytes (Go's len), any other value is kept, so a negative one ranks below every
 * rule-length default. Idempotent: a computed priority passed back in comes out unchanged.
 */
export function routerPriority(configured: number | undefined, rule: string): number {
  return configured ? configured : Buffer.byteLength(rule, 'utf8');
}

/**
 * Traefik's default providers.precedence: on equal priority a router of a provider listed earlier wins; providers
 * not listed (internal, test providers) lose to every listed one.
 */
const PROVIDER_PRECEDENCE: readonly string[] = [
  'kubernetesgateway', 'kubernetescrd', 'kubernetes', 'kubernetesingressnginx', 'swarm', 'docker', 'file', 'redis',
  'knative', 'consul', 'consulcatalog', 'nomad', 'etcd', 'ecs', 'http', 'zookeeper', 'rest',
];

/** Rank of the provider in a qualified router name (`api@docker`); Infinity when unqualified or unlisted. */
function providerRank(name: string): number {
  const parts = name.split('@');
  const rank = parts.length === 2 ? PROVIDER_PRECEDENCE.indexOf(parts[1]!) : -1;
  return rank === -1 ? Infinity : rank;
}

/**
 * Traefik's order: higher priority first, then provider precedence. Traefik leaves the rest to map order;
 * Wharf then sorts by name, so the outcome never depends on configuration order.
 */
export function compareRoutes(a: RouteEntry<unknown>, b: RouteEntry<unknown>): number {
  return compareKeys(sortKey(a), sortKey(b));
}

interface SortKey {
  readonly priority: number;
  readonly providerRank: number;
  readonly name: string;
}

function sortKey(entry: RouteEntry<unknown>): SortKey {
  return { priority: routerPriority(entry.priority, entry.rule.rule), providerRank: providerRank(entry.name), name: entry.name };
}

function compareKeys(a: SortKey, b: SortKey): number {
  return b.priority - a.priority || compareValues(a.providerRank, b.providerRank) || compareValues(a.name, b.name);
}

/** Evaluation order of a table; keys are computed once per entry, not once per comparison. */
function sortByPriority<T>(entries: readonly RouteEntry<T>[]): RouteEntry<T>[] {
  return entries
    .map((entry) => ({ entry, key: sortKey(entry) }))
    .sort((a, b) => compareKeys(a.key, b.key))
    .map(({ entry }) => entry);
}

function compareValues<V extends number | string>(a: V, b: V): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
