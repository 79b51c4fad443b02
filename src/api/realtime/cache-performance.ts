import type { RedisClient } from '../../shared/redis.js';
import type { Broadcast } from './context.js';

/** Keys read per SCAN step when counting a tier's entries. */
const SCAN_COUNT = 1_000;
/** Entries whose MEMORY USAGE is summed to estimate a tier's memory. */
const MEMORY_SAMPLE = 20;

/** Hit and miss counts a tier has kept in this web process. */
export interface TierCounters {
  hits(): Promise<number>;
  misses(): Promise<number>;
}

/** One cache tier: the keys under which it stores answers and, where it counts them, its hits. */
export interface CacheTier {
  name: string;
  /** SCAN pattern of its entries. */
  match: string;
  counters?: TierCounters;
}

/** The figures of one tier in a cache_performance message. */
export interface TierFigures {
  name: string;
  /** Hits and misses answered by this web process since it started; null for a tier that does not count them. */
  hits: number | null;
  misses: number | null;
  hitRate: number | null;
  entries: number;
  /** Estimated from a sample of entries' MEMORY USAGE. */
  memoryBytes: number;
}

async function countEntries(redis: RedisClient, match: string): Promise<{ entries: number; sample: string[] }> {
  let cursor = '0';
  let entries = 0;
  const sample: string[] = [];
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT);
    cursor = next;
    entries += keys.length;
    for (const key of keys) if (sample.length < MEMORY_SAMPLE) sample.push(key);
  } while (cursor !== '0');
  return { entries, sample };
}

/** The cache_performance message: every tier's hit rate, entries and memory, and Redis's memory and evictions. */
export async function cachePerformance(redis: RedisClient, tiers: readonly CacheTier[]): Promise<Record<string, unknown>> {
  const figures: TierFigures[] = [];
  for (const tier of tiers) {
    const { entries, sample } = await countEntries(redis, tier.match);
    const sizes = await Promise.all(sample.map((key) => redis.memory('USAGE', key)));
    const sampled = sizes.reduce<number>((sum, size) => sum + Number(size ?? 0), 0);
    const hits = tier.counters ? await tier.counters.hits() : null;
    const misses = tier.counters ? await tier.counters.misses() : null;
    const asked = (hits ?? 0) + (misses ?? 0);
    figures.push({
      name: tier.name,
      hits,
      misses,
      hitRate: hits === null || asked === 0 ? null : hits / asked,
      entries,
      memoryBytes: sample.length === 0 ? 0 : Math.round((sampled / sample.length) * entries),
    });
  }
  const [memory, stats] = await Promise.all([redis.info('memory'), redis.info('stats')]);
  const field = (text: string, name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return {
    type: 'cache_performance',
    timestamp: new Date().toISOString(),
    tiers: figures,
    redis: {
      usedMemoryBytes: field(memory, 'used_memory'),
      maxMemoryBytes: field(memory, 'maxmemory'),
      evictedKeys: field(stats, 'evicted_keys'),
      expiredKeys: field(stats, 'expired_keys'),
    },
  };
}

/**
 * Sends cache_performance to its subscribers every `intervalMs`, computed once per tick for
 * all of them; it runs only while someone listens.
 */
export class CachePerformanceFeed implements Broadcast {
  private readonly listeners = new Set<(message: Record<string, unknown>) => void>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly compute: () => Promise<Record<string, unknown>>,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  subscribe(listener: (message: Record<string, unknown>) => void): () => void {
    this.listeners.add(listener);
    // A new subscriber gets the figures at once, then with everyone else.
    this.compute()
      .then((message) => this.listeners.has(listener) && listener(message))
      .catch(this.onError);
    this.timer ??= setInterval(() => {
      this.compute()
        .then((message) => {
          for (const each of this.listeners) each(message);
        })
        .catch(this.onError);
    }, this.intervalMs);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
