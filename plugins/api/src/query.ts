// List endpoints' query parameters, as Traefik reads them: search, status, sorting and pagination.

export const DEFAULT_PER_PAGE = 100;
const STATUSES = ['enabled', 'disabled', 'warning'] as const;

/** A request problem answered with 400 and `{ "message": … }`. */
export class BadRequest extends Error {}

export interface ListQuery {
  /** Case-insensitive substring of the name (and of the rule, for routers). */
  search: string;
  status?: (typeof STATUSES)[number];
  /** Routers only: those using this service / this middleware (qualified names). */
  serviceName?: string;
  middlewareName?: string;
  sortBy: string;
  direction: 'asc' | 'desc';
  page: number;
  perPage: number;
}

export function parseListQuery(params: URLSearchParams): ListQuery {
  const status = params.get('status') ?? '';
  if (status !== '' && !(STATUSES as readonly string[]).includes(status)) {
    throw new BadRequest(`invalid request: status: ${JSON.stringify(status)} (expected ${STATUSES.join(', ')})`);
  }
  const direction = (params.get('direction') ?? 'asc').toLowerCase();
  if (direction !== 'asc' && direction !== 'desc') throw new BadRequest(`invalid request: direction: ${JSON.stringify(direction)} (expected asc or desc)`);
  return {
    search: params.get('search') ?? '',
    status: status === '' ? undefined : (status as ListQuery['status']),
    serviceName: params.get('serviceName') || undefined,
    middlewareName: params.get('middlewareName') || undefined,
    sortBy: params.get('sortBy') || 'name',
    direction,
    page: positiveInt(params, 'page', 1),
    perPage: positiveInt(params, 'per_page', DEFAULT_PER_PAGE),
  };
}

function positiveInt(params: URLSearchParams, key: string, fallback: number): number {
  const raw = params.get(key);
  if (raw === null || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new BadRequest(`invalid request: ${key}: ${JSON.stringify(raw)} (expected a whole number ≥ 1)`);
  return Number(raw);
}

/** Whether a representation passes the filters (Traefik's searchCriterion). */
export function keep(item: Record<string, unknown>, query: ListQuery, searchIn: readonly string[]): boolean {
  if (query.status && item.status !== query.status) return false;
  if (query.search) {
    const needle = query.search.toLowerCase();
    const hit = searchIn.some((field) => typeof item[field] === 'string' && (item[field] as string).toLowerCase().includes(needle));
    if (!hit) return false;
  }
  if (query.serviceName && item.service !== query.serviceName) return false;
  if (query.middlewareName && !(Array.isArray(item.middlewares) && item.middlewares.includes(query.middlewareName))) return false;
  return true;
}

/** Sorts by one top-level field (then by name), ascending or descending. */
export function sortItems(items: Record<string, unknown>[], query: ListQuery): Record<string, unknown>[] {
  const key = query.sortBy;
  const sign = query.direction === 'desc' ? -1 : 1;
  return items.sort((a, b) => sign * (compare(a[key], b[key]) || compare(a.name, b.name)));
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = a === undefined ? '' : Array.isArray(a) ? a.join(',') : typeof a === 'object' ? JSON.stringify(a) : String(a);
  const sb = b === undefined ? '' : Array.isArray(b) ? b.join(',') : typeof b === 'object' ? JSON.stringify(b) : String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

export interface Page<T> {
  items: T[];
  /** Value of the X-Next-Page header: the next page, or 1 when this is the last one (as Traefik answers). */
  nextPage: number;
}

/** Traefik's pagination: pages start at 1; a page past the end (other than the first) is a 400. */
export function paginate<T>(items: readonly T[], query: ListQuery): Page<T> {
  const start = (query.page - 1) * query.perPage;
  if (start !== 0 && start >= items.length) {
    throw new BadRequest(`invalid request: page: ${query.page}, per_page: ${query.perPage}`);
  }
  const end = Math.min(start + query.perPage, items.length);
  const nextPage = query.page * query.perPage < items.length ? query.page + 1 : 1;
  return { items: items.slice(start, end), nextPage };
}
