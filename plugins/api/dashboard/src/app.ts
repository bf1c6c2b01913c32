// The dashboard: loads the API's data, renders the page for the URL hash, and follows /api/events to
// re-render on every configuration change and health transition and to move the traffic graphs.
// Certificate resolvers have no live event: they are reloaded with every refresh, when their page is opened
// and every RESOLVERS_POLL_MS while it is shown (orders finish between configuration changes).
import { events, getAll, getJSON, type CertificateResolver, type EntryPoint, type L4Service, type Middleware, type Overview, type RateCounts, type Router, type Service, type TrafficReport, type TrafficSample, type Version } from './api.js';
import { drawSparkline, drawStacked, formatRate } from './chart.js';
import { replace } from './dom.js';
import { TrafficHistory } from './traffic.js';
import { L4_KINDS, l4DetailPage, l4ListPage } from './views-l4.js';
import { certificatesPage, middlewarePage, middlewaresPage, overviewPage, routerPage, routersPage, servicePage, servicesPage, type Filters, type L4Kind, type State, type ViewContext } from './views.js';

const main = document.getElementById('main')!;
const live = document.getElementById('live')!;
const updated = document.getElementById('updated')!;
const state: State = { entryPoints: [], routers: [], services: [], middlewares: [], tcp: { routers: [], services: [], middlewares: [] }, udp: { routers: [], services: [] } };
const traffic = new TrafficHistory();
// Filters are kept per list page, so switching pages does not carry a search over.
const filters: Record<string, Filters> = {};
let loaded = false;
let loadError: string | undefined;
const RESOLVERS_POLL_MS = 10_000;

function route(): { page: string; name?: string; l4?: L4Kind } {
  const [page = '', ...rest] = window.location.hash.replace(/^#\/?/, '').split('/');
  // `#/tcp/routers/<name>`: the protocol, then the kind, then the element.
  const l4 = L4_KINDS.find((k) => k === `${page}/${rest[0] ?? ''}`);
  if (l4) rest.shift();
  return { page, l4, name: rest.length ? decodeURIComponent(rest.join('/')) : undefined };
}

function render(): void {
  const { page, name, l4 } = route();
  const filterKey = l4 ?? (page || 'overview');
  const view: ViewContext = {
    state,
    traffic,
    filters: (filters[filterKey] ??= { search: '', status: '' }),
    onFilter: () => render(),
  };
  for (const a of document.querySelectorAll<HTMLAnchorElement>('nav a')) a.classList.toggle('active', a.dataset.nav === (page || 'overview'));
  if (!loaded) {
    replace(main, loadError ? errorBox(loadError) : loadingBox());
    return;
  }
  // Keep the search box focused and its caret in place across re-renders while the user types.
  const focused = document.activeElement instanceof HTMLInputElement && document.activeElement.id === 'search' ? document.activeElement : undefined;
  const caret = focused?.selectionStart ?? null;
  let content: HTMLElement;
  if (l4) content = name ? l4DetailPage(view, l4, name) : l4ListPage(view, l4);
  else if (page === 'routers') content = name ? routerPage(view, name) : routersPage(view);
  else if (page === 'services') content = name ? servicePage(view, name) : servicesPage(view);
  else if (page === 'middlewares') content = name ? middlewarePage(view, name) : middlewaresPage(view);
  else if (page === 'certificates') content = certificatesPage(view);
  else content = overviewPage(view);
  replace(main, content);
  if (loadError) main.prepend(errorBox(loadError));
  if (focused) {
    const search = document.getElementById('search') as HTMLInputElement | null;
    search?.focus();
    if (search && caret !== null) search.setSelectionRange(caret, caret);
  }
  drawCharts();
}

function loadingBox(): HTMLElement {
  const p = document.createElement('p');
  p.className = 'empty';
  p.textContent = 'Loading…';
  return p;
}

function errorBox(message: string): HTMLElement {
  const div = document.createElement('div');
  div.className = 'banner banner-error';
  div.textContent = `Cannot reach the API: ${message}`;
  return div;
}

/** Redraws every chart and rate on the page from the traffic history (once per traffic event). */
function drawCharts(): void {
  for (const canvas of main.querySelectorAll<HTMLCanvasElement>('canvas[data-chart]')) {
    const name = canvas.dataset.chart!;
    drawStacked(canvas, name === '*' ? traffic.sum() : traffic.series(name));
  }
  for (const canvas of main.querySelectorAll<HTMLCanvasElement>('canvas[data-spark]')) {
    drawSparkline(canvas, traffic.series(canvas.dataset.spark!).requests, traffic.slots);
  }
  for (const el of main.querySelectorAll<HTMLElement>('[data-rate]')) {
    const name = el.dataset.rate!;
    const s = name === '*' ? traffic.sum() : undefined;
    el.textContent = formatRate(s ? (s.requests[s.requests.length - 1] ?? 0) : traffic.current(name));
  }
  for (const el of main.querySelectorAll<HTMLElement>('[data-total]')) {
    const [name, key] = el.dataset.total!.split('|') as [string, keyof RateCounts];
    el.textContent = String(traffic.totals(name)?.[key] ?? 0);
  }
}

/** Reloads the certificate resolvers on their own, so a failure there leaves the other pages working. */
async function loadResolvers(): Promise<void> {
  try {
    state.resolvers = await getAll<CertificateResolver>('certificateresolvers');
    state.resolversError = undefined;
  } catch (err) {
    state.resolversError = err instanceof Error ? err.message : String(err);
  }
}

/** Reloads the resolvers and re-renders, when their page is the one shown. */
async function refreshCertificatesPage(): Promise<void> {
  if (route().page !== 'certificates') return;
  await loadResolvers();
  if (route().page === 'certificates') render();
}

let refreshing: Promise<void> | undefined;
let again = false;

/** Reloads everything the pages show; concurrent calls coalesce into one more round. */
function refresh(): Promise<void> {
  if (refreshing) {
    again = true;
    return refreshing;
  }
  refreshing = (async () => {
    try {
      const [overview, entryPoints, routers, services, middlewares, tcpRouters, tcpServices, tcpMiddlewares, udpRouters, udpServices] = await Promise.all([
        getJSON<Overview>('overview'),
        getAll<EntryPoint>('entrypoints'),
        getAll<Router>('http/routers'),
        getAll<Service>('http/services'),
        getAll<Middleware>('http/middlewares'),
        getAll<Router>('tcp/routers'),
        getAll<L4Service>('tcp/services'),
        getAll<Middleware>('tcp/middlewares'),
        getAll<Router>('udp/routers'),
        getAll<L4Service>('udp/services'),
        loadResolvers(),
      ]);
      const tcp = { routers: tcpRouters, services: tcpServices, middlewares: tcpMiddlewares };
      Object.assign(state, { overview, entryPoints, routers, services, middlewares, tcp, udp: { routers: udpRouters, services: udpServices } });
      traffic.retain(new Set(routers.map((r) => r.name)));
      loaded = true;
      loadError = undefined;
      updated.textContent = `Updated ${new Date().toLocaleTimeString()}${state.generation !== undefined ? ` · configuration #${state.generation}` : ''}`;
    } catch (err) {
      loadError = err instanceof Error ? err.message : String(err);
    }
    render();
  })().finally(() => {
    refreshing = undefined;
    if (again) {
      again = false;
      void refresh();
    }
  });
  return refreshing;
}

function connect(): void {
  const source = events();
  const setLive = (on: boolean) => {
    live.className = on ? 'live on' : 'live off';
    live.textContent = on ? 'Live' : 'Reconnecting…';
  };
  source.addEventListener('open', () => {
    setLive(true);
    // Events may have been missed while disconnected.
    void refresh();
  });
  source.addEventListener('error', () => setLive(false));
  source.addEventListener('reload', (e) => {
    state.generation = (JSON.parse((e as MessageEvent<string>).data) as { generation: number }).generation;
    void refresh();
  });
  source.addEventListener('health', () => void refresh());
  source.addEventListener('traffic', (e) => {
    traffic.add(JSON.parse((e as MessageEvent<string>).data) as TrafficSample);
    drawCharts();
  });
}

async function start(): Promise<void> {
  window.addEventListener('hashchange', () => {
    render();
    window.scrollTo(0, 0);
    void refreshCertificatesPage();
  });
  setInterval(() => void refreshCertificatesPage(), RESOLVERS_POLL_MS);
  window.addEventListener('resize', () => drawCharts());
  render();
  try {
    const version = await getJSON<Version>('version');
    document.getElementById('version')!.textContent = `v${version.Version}`;
    traffic.load(await getJSON<TrafficReport>('wharf/traffic'));
  } catch {
    // refresh() reports the API being unreachable
  }
  await refresh();
  connect();
}

void start();
