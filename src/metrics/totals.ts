import type { RedisClient } from '../shared/redis.js';
import client from 'prom-client';

/** How often a process publishes its metrics, and after how long a silent process's gauges are dropped. */
export const PUBLISH_INTERVAL_MS = 5_000;
const STALE_AFTER_MS = 4 * PUBLISH_INTERVAL_MS;

type MetricJson = client.MetricObjectWithValues<client.MetricValueWithName<string>>;
type Labels = client.LabelValues<string>;

const keys = (prefix: string) => ({
  totals: `${prefix}:metrics:totals`,
  families: `${prefix}:metrics:families`,
  processes: `${prefix}:metrics:processes`,
});

/** A process's metrics, split by how they add up across the deployment. */
export interface ProcessRegistries {
  /**
   * Counters and histograms of the deployment's work (jobs finished, requests served …): each
   * process adds its increments to totals kept in Redis, which therefore only ever grow,
   * however many processes come and go.
   */
  totals: client.Registry;
  /** This process's own figures (CPU, memory, event-loop lag, pool sizes): shown with its `instance` label while it lives. */
  own: client.Registry;
}

/** What the totals need to be shown: help, type and the label order the process used. */
interface Family {
  help: string;
  type: string;
  labels: string[];
}

interface PublishedProcess {
  at: number;
  metrics: MetricJson[];
}

const sortedLabels = (labels: Labels) => Object.fromEntries(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));

/** One series of a family in the totals hash: family, sample name (`…_bucket`, `…_sum`) and labels in a fixed order. */
const seriesField = (family: string, sample: string, labels: Labels) => JSON.stringify([family, sample, sortedLabels(labels)]);

/**
 * Publishes one process's metrics to Redis every few seconds: its increments of the deployment
 * totals, and a snapshot of its own figures. Any web process's /metrics then answers for every
 * process, and a counter never falls when a process stops: what it counted stays in the totals.
 */
export class MetricsPublisher {
  private readonly sent = new Map<string, number>();
  private readonly announced = new Set<string>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly registries: ProcessRegistries,
    /** `role:host:pid`: the `instance` label of this process's own figures. */
    readonly instance: string,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.flush().catch(() => undefined), PUBLISH_INTERVAL_MS);
    this.timer.unref();
  }

  /** Adds what was counted since the last flush to the totals and replaces this process's snapshot. */
  async flush(): Promise<void> {
    const [totals, own] = await Promise.all([this.registries.totals.getMetricsAsJSON(), this.registries.own.getMetricsAsJSON()]);
    const key = keys(this.prefix);
    const transaction = this.redis.multi();
    const sending = new Map<string, number>();
    for (const metric of totals as MetricJson[]) {
      const type = String(metric.type);
      if (type !== 'counter' && type !== 'histogram') {
        throw new TypeError(`${metric.name} is a ${metric.type}: only counters and histograms add up into totals`);
      }
      if (!this.announced.has(metric.name) && metric.values.length > 0) {
        const family: Family = { help: metric.help, type, labels: Object.keys(metric.values[0].labels) };
        transaction.hset(key.families, metric.name, JSON.stringify(family));
      }
      for (const value of metric.values) {
        const field = seriesField(metric.name, value.metricName ?? metric.name, value.labels);
        const delta = value.value - (this.sent.get(field) ?? 0);
        // A series set up at zero is sent once, so that it shows (and rate() works) before its first event.
        if (delta === 0 && this.sent.has(field)) continue;
        transaction.hincrbyfloat(key.totals, field, delta);
        sending.set(field, value.value);
      }
    }
    const snapshot: PublishedProcess = { at: Date.now(), metrics: own as MetricJson[] };
    transaction.hset(key.processes, this.instance, JSON.stringify(snapshot));
    const results = await transaction.exec();
    const failed = results?.find(([error]) => error);
    if (!results || failed) throw failed?.[0] ?? new Error('the metrics transaction was discarded');
    for (const [field, value] of sending) this.sent.set(field, value);
    for (const metric of totals) if (metric.values.length > 0) this.announced.add(metric.name);
  }

  /** Publishes the last increments and withdraws this process's own figures. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush().catch(() => undefined);
    await this.redis.hdel(keys(this.prefix).processes, this.instance).catch(() => undefined);
  }
}

/** Every live process's published snapshot, by instance; snapshots of silent processes are removed. */
export async function liveProcesses(redis: RedisClient, prefix: string): Promise<Array<{ instance: string } & PublishedProcess>> {
  const key = keys(prefix).processes;
  const entries = await redis.hgetall(key);
  const now = Date.now();
  const live: Array<{ instance: string } & PublishedProcess> = [];
  const stale: string[] = [];
  for (const [instance, text] of Object.entries(entries)) {
    const published = JSON.parse(text) as PublishedProcess;
    if (now - published.at > STALE_AFTER_MS) stale.push(instance);
    else live.push({ instance, ...published });
  }
  if (stale.length > 0) await redis.hdel(key, ...stale);
  return live;
}

/** Histogram samples in the order Prometheus shows them: buckets by bound, then sum and count. */
function sampleOrder(a: client.MetricValueWithName<string>, b: client.MetricValueWithName<string>): number {
  const { le: leA, ...restA } = a.labels;
  const { le: leB, ...restB } = b.labels;
  const series = JSON.stringify(restA).localeCompare(JSON.stringify(restB));
  if (series !== 0) return series;
  const name = (a.metricName ?? '').localeCompare(b.metricName ?? '');
  if (name !== 0) return name;
  const bound = (le: string | number | undefined) => (le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le));
  return bound(leA) - bound(leB);
}

/**
 * The deployment's metrics: the totals every process added to, and each live process's own
 * figures labelled with its `instance`.
 */
export async function deploymentMetrics(redis: RedisClient, prefix: string): Promise<client.Registry> {
  const key = keys(prefix);
  const [totals, families, processes] = await Promise.all([
    redis.hgetall(key.totals),
    redis.hgetall(key.families),
    liveProcesses(redis, prefix),
  ]);
  const byFamily = new Map<string, MetricJson>();
  for (const [field, value] of Object.entries(totals)) {
    const [family, sample, labels] = JSON.parse(field) as [string, string, Labels];
    const described = families[family];
    if (!described) continue;
    const { help, type, labels: order } = JSON.parse(described) as Family;
    let metric = byFamily.get(family);
    if (!metric) {
      metric = { name: family, help, type, aggregator: 'sum', values: [] } as unknown as MetricJson;
      byFamily.set(family, metric);
    }
    const ordered = Object.fromEntries(
      [...order, ...Object.keys(labels)]
        .filter((name, i, all) => name in labels && all.indexOf(name) === i)
        .map((name) => [name, labels[name]]),
    );
    metric.values.push({ labels: ordered, value: Number(value), ...(sample === family ? {} : { metricName: sample }) });
  }
  for (const metric of byFamily.values()) metric.values.sort(sampleOrder);
  // Each process's series differ by their instance label, so summing keeps them apart.
  const own = processes.map(({ instance, metrics }) =>
    metrics.map((metric) => ({
      ...metric,
      aggregator: 'sum' as const,
      values: metric.values.map((value) => ({ ...value, labels: { ...value.labels, instance } })),
    })),
  );
  return client.AggregatorRegistry.aggregate([[...byFamily.values()], ...own]);
}
