// Series of routers and services that a new configuration removed are dropped once they were scraped one last time,
// as Traefik's promState does: a gateway that sees containers come and go does not keep their series forever.
import { Registry, type Metric, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import type { RuntimeInfo } from '@wharf/core';

type LabelName = 'router' | 'service';

/** Which routers and services the live configuration has, and which ones left it since the last scrape. */
export class StaleSeries {
  private live: Record<LabelName, Set<string>> = { router: new Set(), service: new Set() };
  private readonly removed: Record<LabelName, Set<string>> = { router: new Set(), service: new Set() };

  /** A new generation is live: what the previous one had and this one lacks is removed. */
  update(info: RuntimeInfo): void {
    const next = { router: new Set(Object.keys(info.routers)), service: new Set(Object.values(info.services).map((s) => s.name)) };
    for (const label of ['router', 'service'] as const) {
      for (const name of this.live[label]) if (!next[label].has(name)) this.removed[label].add(name);
    }
    this.live = next;
  }

  /** After a scrape: drops every series of a removed router or service that did not come back. */
  async prune(metrics: readonly Metric[]): Promise<void> {
    const gone = (label: LabelName, value: unknown) => typeof value === 'string' && this.removed[label].has(value) && !this.live[label].has(value);
    if (this.removed.router.size === 0 && this.removed.service.size === 0) return;
    for (const metric of metrics) {
      const { values } = (await metric.get()) as MetricObjectWithValues<MetricValue<string>>;
      for (const { labels } of values) {
        if (!gone('router', labels.router) && !gone('service', labels.service)) continue;
        // A histogram's bucket lines carry `le`, which is not one of its label names.
        const { le: _le, ...own } = labels;
        metric.remove(own as Parameters<Metric['remove']>[0]);
      }
    }
    this.removed.router.clear();
    this.removed.service.clear();
  }
}

/** A registry that prunes removed routers' and services' series after each collection (a scrape, or a worker's share of one). */
export class PruningRegistry extends Registry {
  readonly stale = new StaleSeries();
  private readonly registered: Metric[] = [];

  override registerMetric(metric: Metric): void {
    super.registerMetric(metric);
    this.registered.push(metric);
  }

  override async metrics(): Promise<string> {
    const text = await super.metrics();
    await this.stale.prune(this.registered);
    return text;
  }

  override async getMetricsAsJSON(): Promise<MetricObjectWithValues<MetricValue<string>>[]> {
    const json = await super.getMetricsAsJSON();
    await this.stale.prune(this.registered);
    return json;
  }
}
