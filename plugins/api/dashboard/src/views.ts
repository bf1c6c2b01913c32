// The dashboard's pages, built from the API's data: overview, routers, services, middlewares, certificates and details.
import { CLASSES, type CertificateResolver, type L4Service, type Element, type EntryPoint, type Counts, type Middleware, type Overview, type Router, type Service, type Status } from './api.js';
import { formatRate } from './chart.js';
import { h, href, type Child } from './dom.js';
import type { TrafficHistory } from './traffic.js';

export interface State {
  overview?: Overview;
  entryPoints: EntryPoint[];
  routers: Router[];
  services: Service[];
  middlewares: Middleware[];
  /** TCP and UDP elements (`/api/tcp/*`, `/api/udp/*`). */
  tcp: { routers: Router[]; services: L4Service[]; middlewares: Middleware[] };
  udp: { routers: Router[]; services: L4Service[] };
  /** Undefined until `/api/certificateresolvers` answered once. */
  resolvers?: CertificateResolver[];
  /** Why the last load of the resolvers failed (the other pages still work). */
  resolversError?: string;
  generation?: number;
}

export interface Filters {
  search: string;
  status: '' | Status;
}

export interface ViewContext {
  state: State;
  traffic: TrafficHistory;
  filters: Filters;
  onFilter(): void;
}

type Kind = 'routers' | 'services' | 'middlewares';
/** TCP and UDP pages: `#/tcp/routers`, `#/udp/services/<name>`. */
export type L4Kind = 'tcp/routers' | 'tcp/services' | 'tcp/middlewares' | 'udp/routers' | 'udp/services';

const STATUS_LABEL: Record<Status, string> = { enabled: 'OK', warning: 'Warning', disabled: 'Error' };

export function statusPill(status: Status): HTMLElement {
  return h('span', { class: `pill pill-${status}`, title: status }, STATUS_LABEL[status]);
}

/** `name@provider` with the provider muted. */
export function elementName(name: string): Child {
  const at = name.lastIndexOf('@');
  if (at <= 0) return name;
  return [h('span', { class: 'name' }, name.slice(0, at)), h('span', { class: 'provider' }, name.slice(at))];
}

export function link(kind: Kind | L4Kind, name: string, exists = true): HTMLElement {
  return exists ? h('a', { href: href(kind, name), class: 'element-link' }, elementName(name)) : h('span', { class: 'missing', title: 'not defined' }, elementName(name));
}

export function chips(items: readonly Child[], ordered = false): HTMLElement {
  if (items.length === 0) return h('span', { class: 'muted' }, '—');
  return h('span', { class: `chips${ordered ? ' ordered' : ''}` }, items.map((item, i) => h('span', { class: 'chip' }, ordered ? h('span', { class: 'order' }, String(i + 1)) : null, item)));
}

export function errorList(errors: readonly string[] | undefined): HTMLElement | null {
  if (!errors?.length) return null;
  return h('ul', { class: 'errors' }, errors.map((e) => h('li', {}, e)));
}

export function section(title: string, ...children: Child[]): HTMLElement {
  return h('section', { class: 'panel' }, h('h2', {}, title), ...children);
}

export function pageHeader(title: Child, ...extra: Child[]): HTMLElement {
  return h('div', { class: 'page-header' }, h('h1', {}, title), ...extra);
}

export function empty(text: string): HTMLElement {
  return h('p', { class: 'empty' }, text);
}

function names(state: State, kind: Kind): Set<string> {
  return new Set(state[kind].map((e) => e.name));
}

// ---------------------------------------------------------------- overview

export function overviewPage(view: ViewContext): HTMLElement {
  const { state } = view;
  const o = state.overview;
  const problems: { kind: Kind | L4Kind; label: string; element: Element }[] = [];
  for (const kind of ['routers', 'services', 'middlewares'] as const) {
    for (const element of state[kind]) if (element.error?.length) problems.push({ kind, label: kind.slice(0, -1), element });
  }
  for (const [kind, elements] of l4Sections(state)) {
    for (const element of elements) if (element.error?.length) problems.push({ kind, label: kind.slice(0, -1).replace('/', ' '), element });
  }
  const card = (kind: Kind, title: string) => {
    const c = o?.http[kind] ?? { total: 0, warnings: 0, errors: 0 };
    const ok = c.total - c.warnings - c.errors;
    const cls = c.errors > 0 ? 'card has-errors' : c.warnings > 0 ? 'card has-warnings' : 'card';
    return h(
      'a',
      { class: cls, href: href(kind), 'data-card': kind },
      h('div', { class: 'card-title' }, title),
      h('div', { class: 'card-total' }, String(c.total)),
      h(
        'div',
        { class: 'card-counts' },
        h('span', { class: 'count count-ok' }, `${ok} OK`),
        h('span', { class: `count count-warning${c.warnings ? ' nonzero' : ''}`, 'data-warnings': kind }, `${c.warnings} warning${c.warnings === 1 ? '' : 's'}`),
        h('span', { class: `count count-error${c.errors ? ' nonzero' : ''}`, 'data-errors': kind }, `${c.errors} error${c.errors === 1 ? '' : 's'}`),
      ),
    );
  };
  const routersByRate = [...state.routers].filter((r) => r.status !== 'disabled').sort((a, b) => view.traffic.current(b.name) - view.traffic.current(a.name) || a.name.localeCompare(b.name)).slice(0, 6);

  return h(
    'div',
    { class: 'page page-overview' },
    pageHeader('Overview'),
    h('div', { class: 'cards' }, card('routers', 'Routers'), card('services', 'Services'), card('middlewares', 'Middlewares')),
    l4Cards(o),
    problems.length > 0
      ? h(
          'section',
          { class: 'panel panel-problems', id: 'problems' },
          h('h2', {}, `${problems.length} element${problems.length === 1 ? '' : 's'} with problems`),
          h(
            'ul',
            { class: 'problems' },
            problems.map(({ kind, label, element }) =>
              h('li', { 'data-problem': element.name }, h('div', { class: 'problem-head' }, statusPill(element.status), h('span', { class: 'kind' }, label), link(kind, element.name)), errorList(element.error)),
            ),
          ),
        )
      : null,
    h(
      'div',
      { class: 'grid-2' },
      section(
        'Traffic',
        h('div', { class: 'chart-head' }, h('span', { class: 'big-rate', 'data-rate': '*' }, formatRate(sumNow(view))), h('span', { class: 'muted' }, ' req/s over all routers'), legend()),
        h('canvas', { class: 'chart', 'data-chart': '*' }),
        routersByRate.length > 0
          ? h(
              'table',
              { class: 'table compact' },
              h('tbody', {}, routersByRate.map((r) => h('tr', {}, h('td', {}, link('routers', r.name)), h('td', { class: 'spark-cell' }, h('canvas', { class: 'spark', 'data-spark': r.name })), h('td', { class: 'num' }, h('span', { 'data-rate': r.name }, formatRate(view.traffic.current(r.name))), h('span', { class: 'muted' }, ' req/s'))))),
            )
          : null,
      ),
      section(
        'Entrypoints',
        state.entryPoints.length === 0
          ? empty('No entrypoints.')
          : h(
              'table',
              { class: 'table compact', id: 'entrypoints-table' },
              h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Address'), h('th', {}, 'Default middlewares'))),
              h('tbody', {}, state.entryPoints.map((ep) => h('tr', { 'data-entrypoint': ep.name }, h('td', {}, h('strong', {}, ep.name), ep.http?.tls ? h('span', { class: 'tag tag-tls' }, 'TLS') : null, ep.asDefault ? h('span', { class: 'tag' }, 'default') : null), h('td', {}, h('code', {}, ep.address)), h('td', {}, chips(ep.http?.middlewares ?? [], true))))),
            ),
        o
          ? h(
              'dl',
              { class: 'facts' },
              h('dt', {}, 'Providers'),
              h('dd', {}, o.providers.length ? o.providers.join(', ') : '—'),
              h('dt', {}, 'Access log'),
              h('dd', {}, o.features.accessLog ? 'on' : 'off'),
              h('dt', {}, 'Metrics'),
              h('dd', {}, o.features.metrics || 'off'),
            )
          : null,
      ),
    ),
  );
}

/** The TCP and UDP elements, by the page that lists them. */
export function l4Sections(state: State): [L4Kind, Element[]][] {
  return [
    ['tcp/routers', state.tcp.routers],
    ['tcp/services', state.tcp.services],
    ['tcp/middlewares', state.tcp.middlewares],
    ['udp/routers', state.udp.routers],
    ['udp/services', state.udp.services],
  ];
}

const L4_TITLES: Record<L4Kind, string> = {
  'tcp/routers': 'TCP Routers',
  'tcp/services': 'TCP Services',
  'tcp/middlewares': 'TCP Middlewares',
  'udp/routers': 'UDP Routers',
  'udp/services': 'UDP Services',
};

export function l4Title(kind: L4Kind): string {
  return L4_TITLES[kind];
}

/** TCP and UDP counts (as the HTTP cards), shown once the configuration has any TCP or UDP element. */
function l4Cards(o: Overview | undefined): HTMLElement | null {
  if (!o?.tcp || !o.udp) return null;
  const counts: [L4Kind, Counts][] = [
    ['tcp/routers', o.tcp.routers],
    ['tcp/services', o.tcp.services],
    ['tcp/middlewares', o.tcp.middlewares],
    ['udp/routers', o.udp.routers],
    ['udp/services', o.udp.services],
  ];
  if (counts.every(([, c]) => c.total === 0)) return null;
  return h(
    'div',
    { class: 'cards cards-l4' },
    counts.map(([kind, c]) =>
      h(
        'a',
        { class: c.errors > 0 ? 'card has-errors' : c.warnings > 0 ? 'card has-warnings' : 'card', href: href(kind), 'data-card': kind },
        h('div', { class: 'card-title' }, L4_TITLES[kind]),
        h('div', { class: 'card-total' }, String(c.total)),
        h(
          'div',
          { class: 'card-counts' },
          h('span', { class: 'count count-ok' }, `${c.total - c.warnings - c.errors} OK`),
          h('span', { class: `count count-warning${c.warnings ? ' nonzero' : ''}`, 'data-warnings': kind }, `${c.warnings} warning${c.warnings === 1 ? '' : 's'}`),
          h('span', { class: `count count-error${c.errors ? ' nonzero' : ''}`, 'data-errors': kind }, `${c.errors} error${c.errors === 1 ? '' : 's'}`),
        ),
      ),
    ),
  );
}

function sumNow(view: ViewContext): number {
  const s = view.traffic.sum();
  return s.requests[s.requests.length - 1] ?? 0;
}

function legend(): HTMLElement {
  return h('span', { class: 'legend' }, CLASSES.filter((c) => c !== '1xx').map((c) => h('span', { class: 'legend-item' }, h('span', { class: `swatch c-${c}` }), c)));
}

// ---------------------------------------------------------------- lists

export function toolbar(view: ViewContext, kind: string, shown: number, total: number): HTMLElement {
  const search = h('input', {
    type: 'search',
    class: 'search',
    id: 'search',
    placeholder: kind === 'routers' || kind === 'tcp/routers' ? 'Search by name or rule' : 'Search by name',
    value: view.filters.search,
    'aria-label': 'Search',
    oninput: (e: Event) => {
      view.filters.search = (e.target as HTMLInputElement).value;
      view.onFilter();
    },
  });
  const select = h(
    'select',
    {
      class: 'status-filter',
      id: 'status-filter',
      'aria-label': 'Status',
      onchange: (e: Event) => {
        view.filters.status = (e.target as HTMLSelectElement).value as Filters['status'];
        view.onFilter();
      },
    },
    ...(['', 'enabled', 'warning', 'disabled'] as const).map((value) => h('option', { value, selected: view.filters.status === value }, value === '' ? 'All statuses' : value === 'enabled' ? 'OK' : value === 'warning' ? 'Warnings' : 'Errors')),
  );
  return h('div', { class: 'toolbar' }, search, select, h('span', { class: 'muted count-label' }, shown === total ? `${total} ${kind.replace('/', ' ')}` : `${shown} of ${total} ${kind.replace('/', ' ')}`));
}

export function filtered<T extends Element & { rule?: string }>(items: T[], filters: Filters): T[] {
  const needle = filters.search.toLowerCase();
  return items.filter((e) => (!filters.status || e.status === filters.status) && (!needle || e.name.toLowerCase().includes(needle) || (e.rule ?? '').toLowerCase().includes(needle)));
}

export function routersPage(view: ViewContext): HTMLElement {
  const { state } = view;
  const items = filtered(state.routers, view.filters);
  const services = names(state, 'services');
  const middlewares = names(state, 'middlewares');
  const rows: HTMLElement[] = [];
  for (const r of items) {
    const row = h(
      'tr',
      { 'data-router': r.name, class: `row-${r.status}` },
      h('td', { class: 'status' }, statusPill(r.status)),
      h('td', { class: 'name-cell' }, link('routers', r.name)),
      h('td', { class: 'rule' }, r.rule ? h('code', {}, r.rule) : h('span', { class: 'muted' }, '—')),
      h('td', { class: 'entrypoints' }, chips(r.using ?? r.entryPoints ?? [])),
      h('td', { class: 'tls' }, r.tls ? h('span', { class: 'tag tag-tls' }, 'TLS') : h('span', { class: 'muted' }, '—')),
      h('td', { class: 'middlewares' }, chips((r.middlewares ?? []).map((m) => link('middlewares', m, middlewares.has(m))), true)),
      h('td', { class: 'service' }, r.service ? link('services', r.service, services.has(r.service)) : h('span', { class: 'muted' }, '—')),
      h('td', { class: 'traffic' }, h('canvas', { class: 'spark', 'data-spark': r.name }), h('span', { class: 'rate', 'data-rate': r.name }, formatRate(view.traffic.current(r.name))), h('span', { class: 'unit' }, '/s')),
    );
    rows.push(row);
    if (r.error?.length) rows.push(h('tr', { class: `error-row row-${r.status}`, 'data-errors-for': r.name }, h('td', {}), h('td', { colspan: 7 }, errorList(r.error))));
  }
  return h(
    'div',
    { class: 'page' },
    pageHeader('HTTP Routers'),
    toolbar(view, 'routers', items.length, state.routers.length),
    items.length === 0
      ? empty(state.routers.length === 0 ? 'No routers yet: add one to a provider (file, labels) and it appears here.' : 'No router matches the filter.')
      : h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'table', id: 'routers-table' },
            h('thead', {}, h('tr', {}, ...['Status', 'Name', 'Rule', 'Entrypoints', 'TLS', 'Middlewares', 'Service', 'Traffic'].map((t) => h('th', {}, t)))),
            h('tbody', {}, rows),
          ),
        ),
  );
}

export function servicesPage(view: ViewContext): HTMLElement {
  const { state } = view;
  const items = filtered(state.services, view.filters);
  const rows = items.map((s) => {
    const servers = Object.values(s.serverStatus ?? {});
    const up = servers.filter((v) => v === 'UP').length;
    return [
      h(
        'tr',
        { 'data-service': s.name, class: `row-${s.status}` },
        h('td', { class: 'status' }, statusPill(s.status)),
        h('td', { class: 'name-cell' }, link('services', s.name)),
        h('td', {}, s.type ?? (s.provider === 'internal' ? 'internal' : '—')),
        h('td', {}, servers.length ? h('span', { class: up < servers.length ? 'health-partial' : 'health-ok' }, `${up}/${servers.length} up`) : h('span', { class: 'muted' }, '—')),
        h('td', {}, chips((s.usedBy ?? []).map((u) => link(state.routers.some((r) => r.name === u) ? 'routers' : 'services', u)))),
        h('td', {}, h('span', { class: 'tag' }, s.provider)),
      ),
      s.error?.length ? h('tr', { class: `error-row row-${s.status}` }, h('td', {}), h('td', { colspan: 5 }, errorList(s.error))) : null,
    ];
  });
  return h(
    'div',
    { class: 'page' },
    pageHeader('HTTP Services'),
    toolbar(view, 'services', items.length, state.services.length),
    items.length === 0
      ? empty('No service matches the filter.')
      : h('div', { class: 'table-wrap' }, h('table', { class: 'table', id: 'services-table' }, h('thead', {}, h('tr', {}, ...['Status', 'Name', 'Type', 'Servers', 'Used by', 'Provider'].map((t) => h('th', {}, t)))), h('tbody', {}, rows))),
  );
}

export function middlewaresPage(view: ViewContext): HTMLElement {
  const { state } = view;
  const items = filtered(state.middlewares, view.filters);
  const rows = items.map((m) => [
    h(
      'tr',
      { 'data-middleware': m.name, class: `row-${m.status}` },
      h('td', { class: 'status' }, statusPill(m.status)),
      h('td', { class: 'name-cell' }, link('middlewares', m.name)),
      h('td', {}, m.type ? h('code', {}, m.type) : h('span', { class: 'muted' }, '—')),
      h('td', {}, chips((m.usedBy ?? []).map((u) => link('routers', u)))),
      h('td', {}, h('span', { class: 'tag' }, m.provider)),
    ),
    m.error?.length ? h('tr', { class: `error-row row-${m.status}` }, h('td', {}), h('td', { colspan: 4 }, errorList(m.error))) : null,
  ]);
  return h(
    'div',
    { class: 'page' },
    pageHeader('HTTP Middlewares'),
    toolbar(view, 'middlewares', items.length, state.middlewares.length),
    items.length === 0
      ? empty(state.middlewares.length === 0 ? 'No middlewares configured.' : 'No middleware matches the filter.')
      : h('div', { class: 'table-wrap' }, h('table', { class: 'table', id: 'middlewares-table' }, h('thead', {}, h('tr', {}, ...['Status', 'Name', 'Type', 'Used by', 'Provider'].map((t) => h('th', {}, t)))), h('tbody', {}, rows))),
  );
}

// ---------------------------------------------------------------- certificates

const DAY_MS = 86_400_000;

/** The expiry as a date, with how far away it is (an expired certificate stands out). */
function expiry(notAfter: string): HTMLElement {
  const time = Date.parse(notAfter);
  if (Number.isNaN(time)) return h('span', { class: 'muted' }, notAfter);
  const days = Math.floor((time - Date.now()) / DAY_MS);
  return h(
    'span',
    { class: 'expiry', title: notAfter },
    new Date(time).toISOString().slice(0, 10),
    days < 0 ? h('span', { class: 'pill pill-disabled' }, 'expired') : h('span', { class: `muted${days < 30 ? ' expiry-soon' : ''}` }, ` in ${days} day${days === 1 ? '' : 's'}`),
  );
}

function resolverPanel(r: CertificateResolver): HTMLElement {
  const rows = r.certificates.map((c) =>
    h('tr', { 'data-certificate': c.domains.main }, h('td', {}, h('code', {}, c.domains.main)), h('td', {}, chips((c.domains.sans ?? []).map((san) => h('code', {}, san)))), h('td', {}, expiry(c.notAfter))),
  );
  return h(
    'section',
    { class: `panel panel-${r.status}`, 'data-resolver': r.name },
    h('h2', {}, statusPill(r.status), h('span', { class: 'resolver-name' }, r.name)),
    facts([
      ['CA server', h('code', {}, r.caServer)],
      ['Challenges', chips(r.challenges)],
    ]),
    errorList(r.error),
    h('h3', {}, `Certificates (${rows.length})`),
    rows.length
      ? h('table', { class: 'table compact certificates' }, h('thead', {}, h('tr', {}, h('th', {}, 'Main domain'), h('th', {}, 'SANs'), h('th', {}, 'Expires'))), h('tbody', {}, rows))
      : empty('No certificate yet: one is ordered when a router using this resolver needs it.'),
  );
}

/** The ACME certificate resolvers (`/api/certificateresolvers`), each with its certificates and errors. */
export function certificatesPage(view: ViewContext): HTMLElement {
  const { resolvers, resolversError } = view.state;
  return h(
    'div',
    { class: 'page page-certificates' },
    pageHeader('Certificates'),
    resolversError ? h('div', { class: 'banner banner-error' }, `Cannot load the certificate resolvers: ${resolversError}`) : null,
    resolvers === undefined
      ? resolversError
        ? null
        : empty('Loading…')
      : resolvers.length === 0
        ? empty('No certificate resolvers: add one with certificatesResolvers.<name>.acme (the acme plugin) and it appears here.')
        : resolvers.map(resolverPanel),
  );
}

// ---------------------------------------------------------------- details

function notFound(kind: string, name: string): HTMLElement {
  return h('div', { class: 'page' }, pageHeader(h('span', {}, elementName(name))), h('section', { class: 'panel' }, empty(`There is no ${kind} named ${name} in the current configuration.`), h('a', { href: href(`${kind}s`) }, `← All ${kind}s`)));
}

export function facts(entries: [string, Child][]): HTMLElement {
  return h('dl', { class: 'facts' }, entries.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

function detailHeader(kind: Kind, e: Element, subtitle?: string): HTMLElement {
  return h(
    'div',
    { class: 'page-header' },
    h('a', { class: 'back', href: href(kind) }, `← ${kind[0]!.toUpperCase()}${kind.slice(1)}`),
    h('h1', {}, statusPill(e.status), h('span', {}, elementName(e.name))),
    subtitle ? h('span', { class: 'muted subtitle' }, subtitle) : null,
  );
}

export function errorPanel(e: Element): HTMLElement | null {
  if (!e.error?.length) return null;
  return h('section', { class: `panel panel-problems panel-${e.status}` }, h('h2', {}, e.status === 'disabled' ? 'Errors (disabled)' : 'Warnings'), errorList(e.error));
}

export function routerPage(view: ViewContext, name: string): HTMLElement {
  const r = view.state.routers.find((x) => x.name === name);
  if (!r) return notFound('router', name);
  const services = names(view.state, 'services');
  const middlewares = names(view.state, 'middlewares');
  const chain = h(
    'div',
    { class: 'chain' },
    h('span', { class: 'chain-step chain-ends' }, chips(r.using ?? r.entryPoints ?? [])),
    ...(r.middlewares ?? []).flatMap((m) => [h('span', { class: 'arrow' }, '→'), h('span', { class: 'chain-step' }, link('middlewares', m, middlewares.has(m)))]),
    h('span', { class: 'arrow' }, '→'),
    h('span', { class: 'chain-step chain-service' }, r.service ? link('services', r.service, services.has(r.service)) : '—'),
  );
  const totals = view.traffic.totals(r.name);
  return h(
    'div',
    { class: 'page', 'data-detail': r.name },
    detailHeader('routers', r, `router · ${r.provider}`),
    errorPanel(r),
    h(
      'div',
      { class: 'grid-2' },
      section(
        'Router',
        facts([
          ['Rule', r.rule ? h('code', {}, r.rule) : '—'],
          ['Priority', r.priority !== undefined ? String(r.priority) : '—'],
          ['Entrypoints', chips(r.entryPoints ?? [])],
          ['TLS', r.tls ? h('code', {}, JSON.stringify(r.tls)) : 'no'],
          ['Provider', r.provider],
        ]),
        h('h3', {}, 'Request path'),
        chain,
      ),
      section(
        'Traffic',
        h('div', { class: 'chart-head' }, h('span', { class: 'big-rate', 'data-rate': r.name }, formatRate(view.traffic.current(r.name))), h('span', { class: 'muted' }, ' req/s'), legend()),
        h('canvas', { class: 'chart', 'data-chart': r.name }),
        h(
          'div',
          { class: 'totals', 'data-totals': r.name },
          h('span', {}, h('strong', { 'data-total': `${r.name}|requests` }, String(totals?.requests ?? 0)), ' requests since start'),
          CLASSES.map((c) => h('span', { class: 'total-class' }, h('span', { class: `swatch c-${c}` }), `${c} `, h('strong', { 'data-total': `${r.name}|${c}` }, String(totals?.[c] ?? 0)))),
        ),
      ),
    ),
  );
}

/** Nested options as `a.b.c = value` rows (durations arrive as `10s`, secrets as `xxxx`). */
function optionRows(value: unknown, prefix = ''): [string, string][] {
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v !== 'object' || v === null)) return [[prefix, value.join(', ')]];
    return value.flatMap((v, i) => optionRows(v, `${prefix}[${i}]`));
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return prefix ? [[prefix, '{}']] : [];
    return entries.flatMap(([k, v]) => optionRows(v, prefix ? `${prefix}.${k}` : k));
  }
  return [[prefix, String(value)]];
}

export function optionsTable(value: unknown, emptyText: string): HTMLElement {
  const rows = optionRows(value);
  if (rows.length === 0) return empty(emptyText);
  return h('table', { class: 'table compact options' }, h('tbody', {}, rows.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, h('code', {}, v))))));
}

export function servicePage(view: ViewContext, name: string): HTMLElement {
  const s = view.state.services.find((x) => x.name === name);
  if (!s) return notFound('service', name);
  const lb = s.loadBalancer;
  const type = s.type === 'loadbalancer' ? 'Load balancer (weighted round-robin)' : s.type === 'weighted' ? 'Weighted (service of services)' : s.provider === 'internal' ? 'Internal service' : (s.type ?? '—');
  const { servers: _servers, healthCheck, ...lbRest } = lb ?? {};
  const serverRows = (lb?.servers ?? []).map((server) => {
    const health = s.serverStatus?.[server.url];
    return h('tr', { 'data-server': server.url }, h('td', {}, h('code', {}, server.url)), h('td', { class: 'num' }, String(server.weight ?? 1)), h('td', {}, health ? h('span', { class: `pill pill-${health === 'UP' ? 'enabled' : 'disabled'}` }, health) : h('span', { class: 'muted' }, '—')));
  });
  return h(
    'div',
    { class: 'page', 'data-detail': s.name },
    detailHeader('services', s, `service · ${s.provider}`),
    errorPanel(s),
    h(
      'div',
      { class: 'grid-2' },
      section(
        'Service',
        facts([
          ['Type', type],
          ['Provider', s.provider],
          ['Used by', chips((s.usedBy ?? []).map((u) => link(view.state.routers.some((r) => r.name === u) ? 'routers' : 'services', u)))],
        ]),
        lb ? [h('h3', {}, 'Load balancer'), optionsTable(lbRest, 'Defaults.')] : null,
      ),
      section(
        'Health check',
        lb ? optionsTable(healthCheck, 'No active health check configured: servers are considered up unless requests to them fail.') : empty('Not applicable.'),
      ),
    ),
    lb
      ? section(
          `Servers (${serverRows.length})`,
          serverRows.length ? h('table', { class: 'table', id: 'servers-table' }, h('thead', {}, h('tr', {}, h('th', {}, 'URL'), h('th', { class: 'num' }, 'Weight'), h('th', {}, 'Health'))), h('tbody', {}, serverRows)) : empty('No servers.'),
        )
      : null,
    s.weighted
      ? section(
          'Weighted services',
          h('table', { class: 'table' }, h('thead', {}, h('tr', {}, h('th', {}, 'Service'), h('th', { class: 'num' }, 'Weight'))), h('tbody', {}, (s.weighted.services ?? []).map((c) => h('tr', {}, h('td', {}, link('services', c.name.includes('@') ? c.name : `${c.name}@${s.provider}`)), h('td', { class: 'num' }, String(c.weight ?? 1)))))),
        )
      : null,
  );
}

export function middlewarePage(view: ViewContext, name: string): HTMLElement {
  const m = view.state.middlewares.find((x) => x.name === name);
  if (!m) return notFound('middleware', name);
  const reserved = new Set(['name', 'provider', 'status', 'error', 'usedBy', 'type']);
  const config = Object.fromEntries(Object.entries(m).filter(([k]) => !reserved.has(k)));
  const [configuredType, options] = Object.entries(config)[0] ?? [m.type ?? '—', undefined];
  return h(
    'div',
    { class: 'page', 'data-detail': m.name },
    detailHeader('middlewares', m, `middleware · ${m.provider}`),
    errorPanel(m),
    h(
      'div',
      { class: 'grid-2' },
      section('Middleware', facts([['Type', h('code', {}, configuredType)], ['Provider', m.provider], ['Used by', chips((m.usedBy ?? []).map((u) => link('routers', u)))]])),
      section('Options', optionsTable(options, 'No options (defaults).')),
    ),
  );
}
