import os from 'node:os';
import type { RedisClient } from '../shared/redis.js';
import type { Knex } from 'knex';
import client from 'prom-client';
import { PerformanceRecorder } from './performance.js';
import { observeQueries } from './postgres.js';
import { createProcessRegistry } from './process.js';
import { MetricsPublisher } from './totals.js';

export type ProcessRole = 'web' | 'worker' | 'scheduler';

/** How many instruments of each role this process made: a second worker runtime in one process is `worker:host:pid:2`. */
const made = new Map<ProcessRole, number>();

/** The pieces of a knex pool (tarn) the gauges read. */
interface TarnPool {
  numUsed(): number;
  max: number;
}

/**
 * Everything one process measures, and where it goes: counters and histograms add up into the
 * deployment totals, the process's own gauges are shown with its `instance` label, and windowed
 * durations feed GET /api/system/performance/metrics. Every PostgreSQL statement of the process
 * is timed at the driver; the pool gauges read the process's knex pool.
 */
export class ProcessInstruments {
  readonly totals = new client.Registry();
  readonly own: client.Registry;
  /** `role:host:pid` (`:n` appended for the n-th of a role in one process). */
  readonly instance: string;
  readonly performance: PerformanceRecorder;
  private readonly publisher: MetricsPublisher;
  private readonly queryDuration: client.Histogram<'kind'>;
  private readonly published: client.Counter<'channel'>;
  private stopTimingQueries?: () => void;

  constructor(redis: RedisClient, prefix: string, role: ProcessRole, db?: Knex) {
    const nth = (made.get(role) ?? 0) + 1;
    made.set(role, nth);
    this.instance = `${role}:${os.hostname()}:${process.pid}${nth > 1 ? `:${nth}` : ''}`;
    this.own = createProcessRegistry();
    this.performance = new PerformanceRecorder(redis, prefix, this.instance);
    this.publisher = new MetricsPublisher(redis, prefix, { totals: this.totals, own: this.own }, this.instance);
    this.queryDuration = new client.Histogram({
      name: 'tickforge_postgres_query_duration_seconds',
      help: 'PostgreSQL statement time by kind (select, insert, copy, transaction …), timed at the driver',
      labelNames: ['kind'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.totals],
    });
    this.published = new client.Counter({
      name: 'tickforge_events_published_total',
      help: 'Events published on the tickstock channels (pub/sub and stream), by channel',
      labelNames: ['channel'] as const,
      registers: [this.totals],
    });
    if (db) {
      const pool = () => (db.client as { pool?: TarnPool }).pool;
      new client.Gauge({
        name: 'tickforge_postgres_pool_in_use',
        help: 'PostgreSQL connections of this process checked out of its pool',
        registers: [this.own],
        collect() {
          this.set(pool()?.numUsed() ?? 0);
        },
      });
      new client.Gauge({
        name: 'tickforge_postgres_pool_size',
        help: 'Largest number of PostgreSQL connections the pool of this process opens',
        registers: [this.own],
        collect() {
          this.set(pool()?.max ?? 0);
        },
      });
    }
  }

  /** Counts an event published on a channel. */
  eventPublished(channel: string): void {
    this.published.inc({ channel });
    this.performance.count('events.published', channel);
  }

  /** Starts timing statements and publishing every few seconds. */
  start(): void {
    this.stopTimingQueries = observeQueries((kind, durationMs) => {
      this.queryDuration.observe({ kind }, durationMs / 1000);
      this.performance.time('db.query', kind, durationMs);
    });
    this.performance.start();
    this.publisher.start();
  }

  /** Publishes what was counted since the last publication now. */
  async flush(): Promise<void> {
    await Promise.all([this.publisher.flush(), this.performance.flush()]);
  }

  /** Publishes a last time and withdraws this process's own figures; nothing to do if it never started. */
  async stop(): Promise<void> {
    if (!this.stopTimingQueries) return;
    this.stopTimingQueries();
    await Promise.all([this.publisher.stop(), this.performance.stop()]);
  }
}
