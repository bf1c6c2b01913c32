// The dashboard's view of the API: shapes it reads and helpers to fetch them (relative to the page, so
// the dashboard works under any basePath and behind any router prefix).

export type Status = 'enabled' | 'disabled' | 'warning';

export interface Element {
  name: string;
  provider: string;
  status: Status;
  error?: string[];
}

export interface Router extends Element {
  entryPoints?: string[];
  middlewares?: string[];
  service?: string;
  rule?: string;
  priority?: number;
  tls?: Record<string, unknown>;
  using?: string[];
}

export interface Service extends Element {
  type?: string;
  loadBalancer?: {
    servers?: { url: string; weight?: number }[];
    passHostHeader?: boolean;
    healthCheck?: Record<string, unknown>;
    [key: string]: unknown;
  };
  weighted?: { services?: { name: string; weight?: number }[] };
  usedBy?: string[];
  serverStatus?: Record<string, 'UP' | 'DOWN'>;
}

/** A TCP or UDP service: servers by address, and (TCP) their status. */
export interface L4Service extends Element {
  type?: string;
  loadBalancer?: { servers?: { address: string; tls?: boolean }[]; [key: string]: unknown };
  weighted?: { services?: { name: string; weight?: number }[] };
  usedBy?: string[];
  serverStatus?: Record<string, 'UP' | 'DOWN'>;
}

export interface Middleware extends Element {
  type?: string;
  usedBy?: string[];
  [key: string]: unknown;
}

export interface EntryPoint {
  name: string;
  address: string;
  asDefault?: boolean;
  http?: { middlewares?: string[]; tls?: unknown };
  [key: string]: unknown;
}

/** `/api/certificateresolvers` item: an ACME resolver, its certificates (`notAfter` in RFC 3339) and problems. */
export interface CertificateResolver {
  name: string;
  caServer: string;
  challenges: string[];
  certificates: { domains: { main: string; sans?: string[] }; notAfter: string }[];
  status: Status;
  error?: string[];
}

export interface Counts {
  total: number;
  warnings: number;
  errors: number;
}

export interface Overview {
  http: { routers: Counts; services: Counts; middlewares: Counts };
  tcp?: { routers: Counts; services: Counts; middlewares: Counts };
  udp?: { routers: Counts; services: Counts };
  features: { tracing: string; metrics: string; accessLog: boolean };
  providers: string[];
}

export interface Version {
  Version: string;
  Codename: string;
  startDate: string;
}

export const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
export type StatusClass = (typeof CLASSES)[number];
export type RateCounts = { requests: number } & Record<StatusClass, number>;

export interface TrafficReport {
  intervalSeconds: number;
  times: number[];
  routers: Record<string, { total: RateCounts; rate: { requests: number[] } & Record<StatusClass, number[]> }>;
}

export interface TrafficSample {
  time: number;
  routers: Record<string, RateCounts>;
}

function url(path: string): string {
  return new URL(`../api/${path}`, window.location.href).toString();
}

export async function getJSON<T>(path: string): Promise<T> {
  const res = await fetch(url(path), { headers: { accept: 'application/json' }, cache: 'no-store' });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Every page of a list endpoint, following X-Next-Page. */
export async function getAll<T>(path: string): Promise<T[]> {
  const out: T[] = [];
  let page = 1;
  for (;;) {
    const res = await fetch(url(`${path}?per_page=500&page=${page}`), { cache: 'no-store' });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    out.push(...((await res.json()) as T[]));
    const next = Number(res.headers.get('X-Next-Page') ?? '1');
    if (!(next > page)) return out;
    page = next;
  }
}

export function events(): EventSource {
  return new EventSource(url('events'));
}
