import type { RedisClient } from '../shared/redis.js';
import os from 'node:os';
import client from 'prom-client';

/** How often a worker publishes its metrics, and after how long a silent worker is dropped. */
export const RELAY_INTERVAL_MS = 5_000;
const STALE_AFTER_MS = 4 * RELAY_INTERVAL_MS;

const relayKey = (prefix: string) => `${prefix}:metrics:workers`;

interface RelayedMetrics {
  at: number;
  metrics: client.MetricObjectWithValues<client.MetricValue<string>>[];
}

/**
 * Publishes a worker process's metrics to Redis every few seconds so that the web process's
 * /metrics covers every worker, however many run and on whichever machines.
 */
export class MetricsRelay {
  private timer?: NodeJS.Timeout;
  readonly id = `${os.hostname()}:${process.pid}`;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly registry: client.Registry,
  ) {}

  start(): void {
    void this.flush().catch(() => undefined);
    this.timer = setInterval(() => void this.flush().catch(() => undefined), RELAY_INTERVAL_MS);
    this.timer.unref();
  }

  async flush(): Promise<void> {
    const payload: RelayedMetrics = { at: Date.now(), metrics: await this.registry.getMetricsAsJSON() };
    await this.redis.hset(relayKey(this.prefix), this.id, JSON.stringify(payload));
  }

  /** Publishes a last time and stops. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush().catch(() => undefined);
  }
}

/** The metrics each live worker relayed, by worker id; entries of silent workers are dropped. */
export async function relayedWorkers(redis: RedisClient, prefix: string): Promise<Array<{ id: string } & RelayedMetrics>> {
  const entries = await redis.hgetall(relayKey(prefix));
  const now = Date.now();
  const fresh: Array<{ id: string } & RelayedMetrics> = [];
  const stale: string[] = [];
  for (const [id, text] of Object.entries(entries)) {
    const relayed = JSON.parse(text) as RelayedMetrics;
    if (now - relayed.at > STALE_AFTER_MS) stale.push(id);
    else fresh.push({ id, ...relayed });
  }
  if (stale.length > 0) await redis.hdel(relayKey(prefix), ...stale);
  return fresh;
}

/** Merges the metrics every live worker relayed with the caller's own registry. */
export async function aggregateMetrics(redis: RedisClient, prefix: string, local: client.Registry): Promise<client.Registry> {
  const workers = await relayedWorkers(redis, prefix);
  return client.AggregatorRegistry.aggregate([await local.getMetricsAsJSON(), ...workers.map((worker) => worker.metrics)]);
}
