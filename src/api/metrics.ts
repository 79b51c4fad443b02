import type { NextFunction, Request, Response } from 'express';
import type { Knex } from 'knex';
import type { RedisClient } from '../shared/redis.js';
import client from 'prom-client';
import { ALERT_RULES } from '../metrics/alert-engine.js';
import { activeAlerts } from '../metrics/alert-monitor.js';
import { lastEodRun } from '../metrics/gather.js';
import type { ProcessInstruments } from '../metrics/instruments.js';
import { gaugeValue } from '../metrics/process.js';
import { redisFigures } from '../metrics/redis-info.js';
import { deploymentMetrics, liveProcesses } from '../metrics/totals.js';
import type { BarsCache, CacheTier } from '../bars/cache.js';
import { liveWorkers, workersPerQueue } from '../queues/heartbeat.js';
import type { QueueName } from '../queues/names.js';
import type { Producer } from '../queues/producer.js';
import { routeOf } from './access-log.js';

const JOB_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'] as const;

export interface WebMetricsDeps {
  producer: Producer;
  queues: readonly QueueName[];
  redis: RedisClient;
  prefix: string;
  db: Knex;
  /** This web process's instruments: its counters add up into the deployment totals. */
  instruments: ProcessInstruments;
  /** Event streams open right now on this process. */
  sseConnections: () => number;
}

/**
 * The web process's metrics and /metrics itself. Request times, cache outcomes and event
 * delivery add up into the deployment totals; the state of the queues, Redis, the last EOD run
 * and the active alerts belong to the deployment, not to a process, so they are read at scrape
 * time and shown without an instance.
 */
export class WebMetrics {
  /** Read at scrape time; never published. */
  private readonly scraped = new client.Registry();
  private readonly http: client.Histogram<'method' | 'route' | 'status'>;
  private readonly delivery: client.Histogram<'channel'>;
  /** GET /api/bars answers by cache outcome: hit or miss. */
  readonly barsCache: {
    inc(labels: { tier: CacheTier; result: 'hit' | 'miss' }): void;
    /** Lookups answered from either tier ('hit'), or computed after missing both ('miss'). */
    count(result: 'hit' | 'miss'): Promise<number>;
  };
  /** WebSocket clients connected to this process. */
  readonly wsConnections: client.Gauge;
  /** WebSocket clients this process dropped for reading too slowly. */
  readonly wsDropped: client.Counter;

  constructor(private readonly deps: WebMetricsDeps) {
    const { producer, queues, redis, prefix, db, instruments } = deps;
    const { totals, own, performance } = instruments;
    this.http = new client.Histogram({
      name: 'tickforge_http_request_duration_seconds',
      help: 'HTTP request latency by route and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [totals],
    });
    this.delivery = new client.Histogram({
      name: 'tickforge_event_delivery_seconds',
      help: 'Time from an event being published to a web process receiving it, by channel',
      labelNames: ['channel'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [totals],
    });
    const cacheRequests = new client.Counter({
      name: 'tickforge_bars_cache_requests_total',
      help: 'Bars cache lookups by tier (memory in this process, then redis) and outcome; a miss in both is computed',
      labelNames: ['tier', 'result'] as const,
      registers: [totals],
    });
    for (const tier of ['memory', 'redis'] as const) {
      for (const result of ['hit', 'miss'] as const) cacheRequests.inc({ tier, result }, 0);
    }
    const lookups = async () => (await cacheRequests.get()).values;
    this.barsCache = {
      inc: (labels) => {
        cacheRequests.inc(labels);
        if (labels.result === 'hit') performance.count('cache.hit', 'bars');
        else if (labels.tier === 'redis') performance.count('cache.miss', 'bars');
      },
      count: async (result) =>
        (await lookups())
          .filter((value) => value.labels.result === result && (result === 'hit' || value.labels.tier === 'redis'))
          .reduce((sum, value) => sum + value.value, 0),
    };
    new client.Gauge({
      name: 'tickforge_bars_cache_hit_ratio',
      help: 'Share of bars cache lookups that hit, per tier, since this process started',
      labelNames: ['tier'] as const,
      registers: [own],
      async collect() {
        const counts = new Map<string, { hit: number; miss: number }>();
        for (const value of await lookups()) {
          const tier = String(value.labels.tier);
          const count = counts.get(tier) ?? { hit: 0, miss: 0 };
          count[value.labels.result === 'hit' ? 'hit' : 'miss'] += value.value;
          counts.set(tier, count);
        }
        for (const [tier, { hit, miss }] of counts) this.set({ tier }, hit + miss > 0 ? hit / (hit + miss) : 0);
      },
    });
    new client.Gauge({
      name: 'tickforge_sse_connections',
      help: 'Job event streams (Server-Sent Events) open on this web process',
      registers: [own],
      collect() {
        this.set(deps.sseConnections());
      },
    });

    new client.Gauge({
      name: 'tickforge_queue_jobs',
      help: 'Jobs per queue and state',
      labelNames: ['queue', 'state'] as const,
      registers: [this.scraped],
      async collect() {
        const counts = await Promise.all(queues.map((queue) => producer.queue(queue).getJobCounts(...JOB_STATES)));
        queues.forEach((queue, i) => {
          for (const state of JOB_STATES) this.set({ queue, state }, counts[i][state] ?? 0);
        });
      },
    });
    new client.Gauge({
      name: 'tickforge_queue_oldest_waiting_seconds',
      help: 'Age of the oldest job waiting in each queue (0 when none waits)',
      labelNames: ['queue'] as const,
      registers: [this.scraped],
      async collect() {
        const oldest = await Promise.all(queues.map((queue) => producer.queue(queue).getJobs(['waiting'], 0, 0, true)));
        queues.forEach((queue, i) => {
          const job = oldest[i][0];
          this.set({ queue }, job ? (Date.now() - job.timestamp) / 1000 : 0);
        });
      },
    });
    new client.Gauge({
      name: 'tickforge_queue_workers',
      help: "Live worker processes of the deployment serving each queue (from the namespace's heartbeats)",
      labelNames: ['queue'] as const,
      registers: [this.scraped],
      async collect() {
        for (const { queue, workers } of workersPerQueue(await liveWorkers(redis, prefix), queues)) this.set({ queue }, workers);
      },
    });
    new client.Gauge({
      name: 'tickforge_redis_used_memory_bytes',
      help: 'Memory Redis uses (INFO memory used_memory)',
      registers: [this.scraped],
      async collect() {
        this.set((await redisFigures(redis)).usedMemoryBytes);
      },
    });
    new client.Gauge({
      name: 'tickforge_redis_connected_clients',
      help: 'Clients connected to Redis (INFO clients)',
      registers: [this.scraped],
      async collect() {
        this.set((await redisFigures(redis)).connectedClients);
      },
    });
    const readEod = () => lastEodRun({ db, eodQueue: producer.queue('sync') });
    new client.Gauge({
      name: 'tickforge_eod_triggered_timestamp_seconds',
      help: 'When the last EOD pipeline was triggered (Unix seconds; 0 when none ran)',
      registers: [this.scraped],
      async collect() {
        const run = await readEod();
        this.set(run ? run.triggeredAt / 1000 : 0);
      },
    });
    new client.Gauge({
      name: 'tickforge_eod_finished_timestamp_seconds',
      help: 'When the last EOD pipeline finished (Unix seconds; 0 while it runs, failed, or none ran)',
      registers: [this.scraped],
      async collect() {
        const run = await readEod();
        this.set(run?.finishedAt === undefined ? 0 : run.finishedAt / 1000);
      },
    });
    new client.Gauge({
      name: 'tickforge_alerts_active',
      help: 'Alerts firing now, by rule',
      labelNames: ['rule'] as const,
      registers: [this.scraped],
      async collect() {
        const alerts = await activeAlerts(redis, prefix);
        for (const rule of ALERT_RULES) this.set({ rule }, alerts.filter((alert) => alert.rule === rule).length);
      },
    });
    this.wsConnections = new client.Gauge({
      name: 'tickforge_ws_connections',
      help: 'WebSocket clients connected to this web process',
      registers: [own],
    });
    this.wsDropped = new client.Counter({
      name: 'tickforge_ws_dropped_total',
      help: 'WebSocket clients dropped (close 4008) for leaving too much unread',
      registers: [totals],
    });
  }

  /** Reports the bars cache's bytes per tier (Redis: counted against its budget) at scrape time. */
  watchBarsCache(cache: BarsCache): void {
    new client.Gauge({
      name: 'tickforge_bars_cache_bytes',
      help: 'Bytes the bars cache holds: in this process (memory) and in Redis (counted against CACHE_REDIS_MAX_BYTES)',
      labelNames: ['tier'] as const,
      registers: [this.deps.instruments.own],
      async collect() {
        const usage = await cache.usage();
        this.set({ tier: 'memory' }, usage.memoryBytes);
        this.set({ tier: 'redis' }, usage.redisBytes);
      },
    });
  }

  /** Times every request; the route label is the matched route pattern, never the raw URL. */
  middleware() {
    return (req: Request, res: Response, next: NextFunction) => {
      const started = performance.now();
      res.on('finish', () => this.requestEnded(req.method, routeOf(req), res.statusCode, performance.now() - started));
      next();
    };
  }

  /** Counts a request that ended, by method, route pattern and status, in the histogram and the performance figures. */
  requestEnded(method: string, route: string, status: number, ms: number): void {
    const { performance: figures } = this.deps.instruments;
    this.http.observe({ method, route, status: String(status) }, ms / 1000);
    figures.time('api', `${method} ${route}`, ms);
    figures.count('operations', 'web');
    if (status >= 500) figures.count('errors', 'web');
  }

  /** An event received on a channel, published at `publishedAt` (ms). */
  eventDelivered(channel: string, publishedAt: number): void {
    const ms = Math.max(0, Date.now() - publishedAt);
    this.delivery.observe({ channel }, ms / 1000);
    this.deps.instruments.performance.time('event.delivery', channel, ms);
  }

  /** Each live worker's kernel pool: threads, utilization and tasks queued. */
  async poolSummary() {
    const processes = await liveProcesses(this.deps.redis, this.deps.prefix);
    return processes
      .filter((process) => process.instance.startsWith('worker:'))
      .map(({ instance, at, metrics }) => ({
        worker: instance,
        reportedAt: new Date(at).toISOString(),
        threads: gaugeValue(metrics, 'tickforge_pool_threads') ?? 0,
        utilization: gaugeValue(metrics, 'tickforge_pool_utilization') ?? 0,
        queuedTasks: gaugeValue(metrics, 'tickforge_pool_queue_size') ?? 0,
      }));
  }

  /**
   * Prometheus text: the deployment totals (this process's latest counts published first),
   * every live process's own figures with its instance, and the deployment's state read now.
   */
  async render(): Promise<{ contentType: string; body: string }> {
    await this.deps.instruments.flush();
    const [deployment, scraped] = await Promise.all([
      deploymentMetrics(this.deps.redis, this.deps.prefix),
      this.scraped.getMetricsAsJSON(),
    ]);
    const merged = client.AggregatorRegistry.aggregate([await deployment.getMetricsAsJSON(), scraped]);
    return { contentType: merged.contentType, body: await merged.metrics() };
  }
}
