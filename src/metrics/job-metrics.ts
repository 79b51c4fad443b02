import client from 'prom-client';

/** Job-side metrics a worker process records; they add up into the deployment totals. */
export interface JobMetrics {
  finished: client.Counter<'queue' | 'name' | 'outcome'>;
  retried: client.Counter<'queue' | 'name'>;
  stalled: client.Counter<'queue'>;
  duration: client.Histogram<'queue' | 'name' | 'outcome'>;
  wait: client.Histogram<'queue' | 'name'>;
  /** Bar-query cache entries written by warm-cache. */
  cacheWarmed: client.Counter;
}

export interface PoolGauges {
  utilization: number;
  queueSize: number;
  threads: number;
}

/**
 * The worker's metrics: counters and histograms of its jobs in `registry` (the deployment
 * totals), and in `own` (shown with the worker's instance) its kernel pool and the queues it
 * serves, one `tickforge_worker_queue` series per queue.
 */
export function createJobMetrics(
  registry: client.Registry,
  own: client.Registry,
  served: { pool: () => PoolGauges; queues: () => readonly string[] },
): JobMetrics {
  const finished = new client.Counter({
    name: 'tickforge_jobs_finished_total',
    help: 'Jobs that finished for good, by outcome (completed, or failed after their last attempt)',
    labelNames: ['queue', 'name', 'outcome'] as const,
    registers: [registry],
  });
  const retried = new client.Counter({
    name: 'tickforge_jobs_retried_total',
    help: 'Failed attempts that will be retried',
    labelNames: ['queue', 'name'] as const,
    registers: [registry],
  });
  const stalled = new client.Counter({
    name: 'tickforge_jobs_stalled_total',
    help: 'Jobs found stalled (lock lost) and moved back to wait',
    labelNames: ['queue'] as const,
    registers: [registry],
  });
  const duration = new client.Histogram({
    name: 'tickforge_job_duration_seconds',
    help: 'Processing time of an attempt',
    labelNames: ['queue', 'name', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    registers: [registry],
  });
  const wait = new client.Histogram({
    name: 'tickforge_job_wait_seconds',
    help: 'Time from enqueue (or the end of a requested delay) to the start of the first attempt',
    labelNames: ['queue', 'name'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    registers: [registry],
  });
  const cacheWarmed = new client.Counter({
    name: 'tickforge_bars_cache_warmed_total',
    help: 'Bar-query cache entries written by the warm-cache job',
    registers: [registry],
  });
  const { pool, queues } = served;
  new client.Gauge({
    name: 'tickforge_pool_utilization',
    help: 'Share of the kernel pool capacity spent running tasks since the worker started (0-1)',
    registers: [own],
    collect() {
      this.set(pool().utilization);
    },
  });
  new client.Gauge({
    name: 'tickforge_pool_queue_size',
    help: 'Kernel tasks waiting for a free thread',
    registers: [own],
    collect() {
      this.set(pool().queueSize);
    },
  });
  new client.Gauge({
    name: 'tickforge_pool_threads',
    help: 'Kernel-pool threads running',
    registers: [own],
    collect() {
      this.set(pool().threads);
    },
  });
  new client.Gauge({
    name: 'tickforge_worker_queue',
    help: 'The queues this worker serves (1 per queue)',
    labelNames: ['queue'] as const,
    registers: [own],
    collect() {
      for (const queue of queues()) this.set({ queue }, 1);
    },
  });
  return { finished, retried, stalled, duration, wait, cacheWarmed };
}
