// The TCP and UDP pages: lists of routers, services and (TCP) middlewares with their status and errors, and a
// detail page per element, in the HTTP pages' layout.
import type { Element, L4Service, Middleware, Router } from './api.js';
import { h, href, type Child } from './dom.js';
import {
  chips,
  elementName,
  empty,
  errorList,
  errorPanel,
  facts,
  filtered,
  l4Title,
  link,
  optionsTable,
  pageHeader,
  section,
  statusPill,
  toolbar,
  type L4Kind,
  type State,
  type ViewContext,
} from './views.js';

export const L4_KINDS: readonly L4Kind[] = ['tcp/routers', 'tcp/services', 'tcp/middlewares', 'udp/routers', 'udp/services'];

function elementsOf(state: State, kind: L4Kind): Element[] {
  const [protocol, plural] = kind.split('/') as ['tcp' | 'udp', 'routers' | 'services' | 'middlewares'];
  return protocol === 'tcp' ? state.tcp[plural] : plural === 'middlewares' ? [] : state.udp[plural];
}

/** Tabs between the lists of one protocol. */
function tabs(kind: L4Kind): HTMLElement {
  const protocol = kind.slice(0, 3);
  const kinds = L4_KINDS.filter((k) => k.startsWith(protocol));
  return h('div', { class: 'tabs' }, kinds.map((k) => h('a', { href: href(k), class: k === kind ? 'tab active' : 'tab', 'data-tab': k }, l4Title(k))));
}

function dash(): HTMLElement {
  return h('span', { class: 'muted' }, '—');
}

function routerCells(state: State, kind: L4Kind, r: Router): Child[] {
  const protocol = kind.slice(0, 3) as 'tcp' | 'udp';
  const services = new Set(elementsOf(state, `${protocol}/services`).map((s) => s.name));
  const middlewares = new Set(state.tcp.middlewares.map((m) => m.name));
  return [
    protocol === 'tcp' ? h('td', { class: 'rule' }, r.rule ? h('code', {}, r.rule) : dash()) : null,
    h('td', { class: 'entrypoints' }, chips(r.using ?? r.entryPoints ?? [])),
    protocol === 'tcp' ? h('td', { class: 'tls' }, r.tls ? h('span', { class: 'tag tag-tls' }, r.tls.passthrough === true ? 'TLS passthrough' : 'TLS') : dash()) : null,
    protocol === 'tcp' ? h('td', { class: 'middlewares' }, chips((r.middlewares ?? []).map((m) => link('tcp/middlewares', m, middlewares.has(m))), true)) : null,
    h('td', { class: 'service' }, r.service ? link(`${protocol}/services`, r.service, services.has(r.service)) : dash()),
  ];
}

/** A user of a service: a router of the same protocol, else a (weighted) service. */
function userLink(state: State, protocol: 'tcp' | 'udp', name: string): HTMLElement {
  const isRouter = elementsOf(state, `${protocol}/routers`).some((r) => r.name === name);
  return link(isRouter ? `${protocol}/routers` : `${protocol}/services`, name);
}

function serviceCells(state: State, kind: L4Kind, s: L4Service): Child[] {
  const servers = Object.values(s.serverStatus ?? {});
  const up = servers.filter((v) => v === 'UP').length;
  const count = s.loadBalancer?.servers?.length ?? s.weighted?.services?.length ?? 0;
  return [
    h('td', {}, s.type ?? '—'),
    h('td', {}, servers.length ? h('span', { class: up < servers.length ? 'health-partial' : 'health-ok' }, `${up}/${servers.length} up`) : String(count)),
    h('td', {}, chips((s.usedBy ?? []).map((u) => userLink(state, kind.slice(0, 3) as 'tcp' | 'udp', u)))),
  ];
}

function middlewareCells(m: Middleware): Child[] {
  return [h('td', {}, m.type ? h('code', {}, m.type) : dash()), h('td', {}, chips((m.usedBy ?? []).map((u) => link('tcp/routers', u))))];
}

function headings(kind: L4Kind): string[] {
  if (kind === 'tcp/routers') return ['Status', 'Name', 'Rule', 'Entrypoints', 'TLS', 'Middlewares', 'Service'];
  if (kind === 'udp/routers') return ['Status', 'Name', 'Entrypoints', 'Service'];
  if (kind === 'tcp/middlewares') return ['Status', 'Name', 'Type', 'Used by', 'Provider'];
  return ['Status', 'Name', 'Type', 'Servers', 'Used by', 'Provider'];
}

/** `#/tcp/routers`, `#/udp/services`…: the elements with status, the errors of each under its row. */
export function l4ListPage(view: ViewContext, kind: L4Kind): HTMLElement {
  const all = elementsOf(view.state, kind);
  const items = filtered(all as (Element & { rule?: string })[], view.filters);
  const columns = headings(kind);
  const rows = items.map((e) => {
    const cells = kind.endsWith('routers')
      ? routerCells(view.state, kind, e as Router)
      : kind === 'tcp/middlewares'
        ? middlewareCells(e as Middleware)
        : serviceCells(view.state, kind, e as L4Service);
    return [
      h(
        'tr',
        { 'data-element': e.name, class: `row-${e.status}` },
        h('td', { class: 'status' }, statusPill(e.status)),
        h('td', { class: 'name-cell' }, link(kind, e.name)),
        ...cells,
        kind.endsWith('routers') ? null : h('td', {}, h('span', { class: 'tag' }, e.provider)),
      ),
      e.error?.length ? h('tr', { class: `error-row row-${e.status}`, 'data-errors-for': e.name }, h('td', {}), h('td', { colspan: columns.length - 1 }, errorList(e.error))) : null,
    ];
  });
  const noun = kind.split('/')[1]!.slice(0, -1);
  return h(
    'div',
    { class: 'page', 'data-page': kind },
    pageHeader(l4Title(kind)),
    tabs(kind),
    toolbar(view, kind, items.length, all.length),
    items.length === 0
      ? empty(all.length === 0 ? `No ${kind.replace('/', ' ')} configured.` : `No ${noun} matches the filter.`)
      : h('div', { class: 'table-wrap' }, h('table', { class: 'table', id: `${kind.replace('/', '-')}-table` }, h('thead', {}, h('tr', {}, columns.map((t) => h('th', {}, t)))), h('tbody', {}, rows))),
  );
}

function routerFacts(state: State, kind: L4Kind, r: Router): [string, Child][] {
  const protocol = kind.slice(0, 3) as 'tcp' | 'udp';
  const out: [string, Child][] = [];
  if (protocol === 'tcp') out.push(['Rule', r.rule ? h('code', {}, r.rule) : '—'], ['Priority', r.priority !== undefined ? String(r.priority) : '—']);
  out.push(['Entrypoints', chips(r.entryPoints ?? [])]);
  if (protocol === 'tcp') {
    out.push(['TLS', r.tls ? h('code', {}, JSON.stringify(r.tls)) : 'no']);
    out.push(['Middlewares', chips((r.middlewares ?? []).map((m) => link('tcp/middlewares', m, state.tcp.middlewares.some((x) => x.name === m))), true)]);
  }
  const services = elementsOf(state, `${protocol}/services`);
  out.push(['Service', r.service ? link(`${protocol}/services`, r.service, services.some((s) => s.name === r.service)) : '—'], ['Provider', r.provider]);
  return out;
}

function serverRows(s: L4Service): HTMLElement | null {
  const servers = s.loadBalancer?.servers;
  if (!servers) return null;
  const rows = servers.map((server) => {
    const health = s.serverStatus?.[server.address];
    return h('tr', { 'data-server': server.address }, h('td', {}, h('code', {}, server.address)), h('td', {}, health ? h('span', { class: `pill pill-${health === 'UP' ? 'enabled' : 'disabled'}` }, health) : dash()));
  });
  return section(
    `Servers (${rows.length})`,
    rows.length ? h('table', { class: 'table', id: 'servers-table' }, h('thead', {}, h('tr', {}, h('th', {}, 'Address'), h('th', {}, 'Health'))), h('tbody', {}, rows)) : empty('No servers.'),
  );
}

/** The configuration of an element: every field but the ones the API adds. */
function configOf(e: Element): Record<string, unknown> {
  const added = new Set(['name', 'provider', 'status', 'error', 'usedBy', 'type', 'using', 'serverStatus', 'priorityStr']);
  return Object.fromEntries(Object.entries(e).filter(([k]) => !added.has(k)));
}

/** `#/tcp/routers/<name>`…: facts, errors and configuration of one TCP or UDP element. */
export function l4DetailPage(view: ViewContext, kind: L4Kind, name: string): HTMLElement {
  const e = elementsOf(view.state, kind).find((x) => x.name === name);
  const noun = `${kind.slice(0, 3).toUpperCase()} ${kind.split('/')[1]!.slice(0, -1)}`;
  if (!e) {
    return h('div', { class: 'page' }, pageHeader(h('span', {}, elementName(name))), h('section', { class: 'panel' }, empty(`There is no ${noun} named ${name} in the current configuration.`), h('a', { href: href(kind) }, `← ${l4Title(kind)}`)));
  }
  let main: HTMLElement;
  let extra: HTMLElement | null = null;
  if (kind.endsWith('routers')) main = section('Router', facts(routerFacts(view.state, kind, e as Router)));
  else {
    const usedBy = (e as L4Service | Middleware).usedBy ?? [];
    const type = (e as L4Service | Middleware).type ?? '—';
    const users = usedBy.map((u) => (kind === 'tcp/middlewares' ? link('tcp/routers', u) : userLink(view.state, kind.slice(0, 3) as 'tcp' | 'udp', u)));
    main = section(kind.endsWith('middlewares') ? 'Middleware' : 'Service', facts([['Type', h('code', {}, type)], ['Provider', e.provider], ['Used by', chips(users)]]));
    if (kind.endsWith('services')) extra = serverRows(e as L4Service);
  }
  return h(
    'div',
    { class: 'page', 'data-detail': e.name },
    h('div', { class: 'page-header' }, h('a', { class: 'back', href: href(kind) }, `← ${l4Title(kind)}`), h('h1', {}, statusPill(e.status), h('span', {}, elementName(e.name))), h('span', { class: 'muted subtitle' }, `${noun} · ${e.provider}`)),
    errorPanel(e),
    h('div', { class: 'grid-2' }, main, section('Configuration', optionsTable(configOf(e), 'No options (defaults).'))),
    extra,
  );
}
