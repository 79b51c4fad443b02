import type { NextFunction, Request, Response } from 'express';
import type { RedisClient } from '../shared/redis.js';
import client from 'prom-client';
import type { PerformanceRecorder } from '../metrics/performance.js';
import { aggregateMetrics, relayedWorkers } from '../metrics/relay.js';
import type { QueueName } from '../queues/names.js';
import type { Producer } from '../queues/producer.js';
import { routeOf } from './access-log.js';

const JOB_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'] as const;

/** The web process's own metrics: HTTP latency by route, and queue depth read from Redis at scrape time. */
export class WebMetrics {
  readonly registry = new client.Registry();
  private readonly http: client.Histogram<'method' | 'route' | 'status'>;
  /** GET /api/bars answers by cache outcome: hit or miss. */
  readonly barsCache: client.Counter<'result'>;

  constructor(
    producer: Producer,
    queues: readonly QueueName[],
    /** Where response times and request outcomes go for GET /api/system/performance/metrics. */
    private readonly performance?: PerformanceRecorder,
  ) {
    this.http = new client.Histogram({
      name: 'tickforge_http_request_duration_seconds',
      help: 'HTTP request latency by route and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
    new client.Gauge({
      name: 'tickforge_queue_jobs',
      help: 'Jobs per queue and state',
      labelNames: ['queue', 'state'] as const,
      registers: [this.registry],
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
      registers: [this.registry],
      async collect() {
        const oldest = await Promise.all(queues.map((queue) => producer.queue(queue).getJobs(['waiting'], 0, 0, true)));
        queues.forEach((queue, i) => {
          const job = oldest[i][0];
          this.set({ queue }, job ? (Date.now() - job.timestamp) / 1000 : 0);
        });
      },
    });
    this.barsCache = new client.Counter({
      name: 'tickforge_bars_cache_requests_total',
      help: 'Bar queries answered from the cache (hit) or computed (miss)',
      labelNames: ['result'] as const,
      registers: [this.registry],
    });
    client.collectDefaultMetrics({ register: this.registry, prefix: 'tickforge_web_' });
  }

  /** Times every request; the route label is the matched route pattern, never the raw URL. */
  middleware() {
    return (req: Request, res: Response, next: NextFunction) => {
      const end = this.http.startTimer();
      res.on('finish', () => {
        const route = routeOf(req);
        const seconds = end({ method: req.method, route, status: String(res.statusCode) });
        this.performance?.time('api', `${req.method} ${route}`, seconds * 1000);
        this.performance?.count('operations', 'web');
        if (res.statusCode >= 500) this.performance?.count('errors', 'web');
      });
      next();
    };
  }

  /** Each live worker's kernel pool: threads, utilization and tasks queued. */
  async poolSummary(redis: RedisClient, prefix: string) {
    const workers = await relayedWorkers(redis, prefix);
    const gauge = (metrics: (typeof workers)[number]['metrics'], name: string) =>
      Number(metrics.find((metric) => metric.name === name)?.values[0]?.value ?? 0);
    return workers.map((worker) => ({
      worker: worker.id,
      reportedAt: new Date(worker.at).toISOString(),
      threads: gauge(worker.metrics, 'tickforge_pool_threads'),
      utilization: gauge(worker.metrics, 'tickforge_pool_utilization'),
      queuedTasks: gauge(worker.metrics, 'tickforge_pool_queue_size'),
    }));
  }

  /** Prometheus text for this process merged with every live worker's relayed metrics. */
  async render(redis: RedisClient, prefix: string): Promise<{ contentType: string; body: string }> {
    const merged = await aggregateMetrics(redis, prefix, this.registry);
    return { contentType: merged.contentType, body: await merged.metrics() };
  }
}
