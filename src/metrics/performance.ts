import type { RedisClient } from '../shared/redis.js';
import { Sketch, type PerformanceStat } from './sketch.js';
import { mergeStored, SlotRecorder, Tally, windowMs, windowSlots, WINDOWS, type WindowName } from './windows.js';

/** Durations timed across the deployment, each by a subject (route, job name, query kind, channel, pattern). */
export const DURATIONS = ['api', 'job.duration', 'job.wait', 'db.query', 'event.delivery', 'pattern'] as const;
export type DurationMetric = (typeof DURATIONS)[number];

/** Events counted across the deployment, each by a subject (channel, cache, service). */
export const COUNTS = ['events.published', 'cache.hit', 'cache.miss', 'operations', 'errors'] as const;
export type CountMetric = (typeof COUNTS)[number];

/** How often a process stores its open slots. */
export const FLUSH_INTERVAL_MS = 5_000;

const slotKey = (prefix: string, window: WindowName, slot: number) => `${prefix}:perf:${window}:${slot}`;
const series = (metric: string, subject: string) => `${metric}\u0000${subject}`;

/**
 * What one process times and counts, kept in slots per window and stored in Redis every few
 * seconds: each process writes only its own fields (`kind, series, instance`), so processes never
 * overwrite each other and a reader merges every process's sketches for the window.
 */
export class PerformanceRecorder {
  private readonly durations = new SlotRecorder(Sketch.empty);
  private readonly counts = new SlotRecorder(() => new Tally());
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly instance: string,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Records a duration in milliseconds. */
  time(metric: DurationMetric, subject: string, durationMs: number): void {
    this.durations.add(series(metric, subject), this.clock(), (sketch) => sketch.record(Math.max(0, durationMs)));
  }

  /** Counts `n` events. */
  count(metric: CountMetric, subject: string, n = 1): void {
    this.counts.add(series(metric, subject), this.clock(), (tally) => tally.add(n));
  }

  start(): void {
    this.timer = setInterval(() => void this.flush().catch(() => undefined), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  /** Stores every slot changed since the last flush. */
  async flush(): Promise<void> {
    const entries = [
      ...this.durations.takeChanged().map((entry) => ({ kind: 'd', ...entry })),
      ...this.counts.takeChanged().map((entry) => ({ kind: 'c', ...entry })),
    ];
    if (entries.length === 0) return;
    const pipeline = this.redis.pipeline();
    const touched = new Map<string, WindowName>();
    for (const { kind, window, slot, series: name, value } of entries) {
      const key = slotKey(this.prefix, window, slot);
      pipeline.hset(key, JSON.stringify([kind, name, this.instance]), value.serialize());
      touched.set(key, window);
    }
    // A slot lives as long as a window can still reach it.
    for (const [key, window] of touched) pipeline.pexpire(key, windowMs(window) + WINDOWS[window].slotMs);
    const results = await pipeline.exec();
    const failed = results?.find(([error]) => error);
    if (failed) throw failed[0];
  }

  /** Stores what is left and stops. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush().catch(() => undefined);
  }
}

/** A cache's requests over the window. */
export interface CacheStat {
  hits: number;
  misses: number;
  /** hits / (hits + misses); 0 without requests. */
  hitRate: number;
}

/** A service's operations (requests, job attempts) and how many of them failed over the window. */
export interface ErrorStat {
  operations: number;
  errors: number;
  /** errors / operations; 0 without operations. */
  errorRate: number;
}

/** Every windowed figure of the deployment: durations merged from every process's sketches, counts added up. */
export interface WindowFigures {
  window: WindowName;
  from: string;
  to: string;
  apiResponseTime: Record<string, PerformanceStat>;
  jobDuration: Record<string, PerformanceStat>;
  queueWait: Record<string, PerformanceStat>;
  postgresQueryTime: Record<string, PerformanceStat>;
  eventDeliveryLatency: Record<string, PerformanceStat>;
  patternProcessing: Record<string, PerformanceStat>;
  cacheHitRate: Record<string, CacheStat>;
  throughput: { requestsPerSecond: number; jobsPerSecond: number; eventsPerSecond: number };
  errorRate: Record<string, ErrorStat>;
}

const ratio = (part: number, whole: number) => (whole > 0 ? part / whole : 0);

/** Reads and merges every process's slots of the window that ends at `now`. */
export async function readWindow(redis: RedisClient, prefix: string, window: WindowName, now = Date.now()): Promise<WindowFigures> {
  const slots = windowSlots(window, now);
  const pipeline = redis.pipeline();
  for (const slot of slots) pipeline.hgetall(slotKey(prefix, window, slot));
  const results = (await pipeline.exec()) ?? [];
  const durations: Array<{ series: string; text: string }> = [];
  const counts: Array<{ series: string; text: string }> = [];
  for (const [error, hash] of results) {
    if (error) throw error;
    for (const [field, text] of Object.entries(hash as Record<string, string>)) {
      const [kind, name] = JSON.parse(field) as [string, string];
      (kind === 'd' ? durations : counts).push({ series: name, text });
    }
  }
  const sketches = mergeStored(durations, Sketch.empty);
  const tallies = mergeStored(counts, () => new Tally());

  const stats = (metric: DurationMetric) => {
    const out: Record<string, PerformanceStat> = {};
    for (const [name, sketch] of sketches) {
      const [of, subject] = name.split('\u0000');
      if (of === metric) out[subject] = sketch.stat();
    }
    return out;
  };
  const tally = (metric: CountMetric) => {
    const out: Record<string, number> = {};
    for (const [name, value] of tallies) {
      const [of, subject] = name.split('\u0000');
      if (of === metric) out[subject] = value.count;
    }
    return out;
  };
  const total = (values: Record<string, { sampleCount: number } | number>) =>
    Object.values(values).reduce<number>((sum, value) => sum + (typeof value === 'number' ? value : value.sampleCount), 0);

  const apiResponseTime = stats('api');
  const jobDuration = stats('job.duration');
  const hits = tally('cache.hit');
  const misses = tally('cache.miss');
  const operations = tally('operations');
  const errors = tally('errors');
  // The window reaches back to its first slot's start; its last slot is still filling.
  const seconds = (now - slots[0]) / 1000;
  return {
    window,
    from: new Date(slots[0]).toISOString(),
    to: new Date(now).toISOString(),
    apiResponseTime,
    jobDuration,
    queueWait: stats('job.wait'),
    postgresQueryTime: stats('db.query'),
    eventDeliveryLatency: stats('event.delivery'),
    patternProcessing: stats('pattern'),
    cacheHitRate: Object.fromEntries(
      [...new Set([...Object.keys(hits), ...Object.keys(misses)])].map((cache) => {
        const [hit, miss] = [hits[cache] ?? 0, misses[cache] ?? 0];
        return [cache, { hits: hit, misses: miss, hitRate: ratio(hit, hit + miss) }];
      }),
    ),
    throughput: {
      requestsPerSecond: total(apiResponseTime) / seconds,
      jobsPerSecond: total(jobDuration) / seconds,
      eventsPerSecond: total(tally('events.published')) / seconds,
    },
    errorRate: Object.fromEntries(
      [...new Set([...Object.keys(operations), ...Object.keys(errors)])].map((service) => {
        const [done, failed] = [operations[service] ?? 0, errors[service] ?? 0];
        return [service, { operations: done, errors: failed, errorRate: ratio(failed, done) }];
      }),
    ),
  };
}
