import { createHash } from 'node:crypto';
import type { RedisClient } from '../shared/redis.js';
import { TIMEFRAMES, timeframeRank, type Timeframe } from './timeframes.js';

/** How long a cached answer lives at most; versions make it stale-proof, the TTL only frees memory. */
export const BARS_CACHE_TTL_SECONDS = 3_600;

/** How many distinct queries the request tally keeps. */
export const MAX_TRACKED_QUERIES = 10_000;

/** Counters a process hooks into the cache (the web process: hits and misses; a worker: warmed keys). */
export interface BarsCacheMetrics {
  hit?(): void;
  miss?(): void;
  warmed?(keys: number): void;
}

/**
 * The Redis side of bar queries: per symbol and timeframe a version that every committed write
 * bumps, answers cached under keys that include the versions they were computed from, and a
 * tally of requested queries for warming. Keys live under `${prefix}:bars-cache:`.
 *
 * A read after a write is never stale: the writer bumps after its commit, so any reader that
 * starts later sees the new version and misses; an answer cached under an old version is never
 * looked up again and expires with its TTL.
 */
export class BarsCache {
  private readonly root: string;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
    readonly metrics: BarsCacheMetrics = {},
    private readonly ttlSeconds = BARS_CACHE_TTL_SECONDS,
  ) {
    this.root = `${prefix}:bars-cache`;
  }

  private versionsKey(symbol: string): string {
    return `${this.root}:versions:${symbol}`;
  }

  /** Marks a symbol's bars of these timeframes as changed. Call after the write is committed. */
  async bump(symbol: string, timeframes: Timeframe | readonly Timeframe[]): Promise<void> {
    const list = typeof timeframes === 'string' ? [timeframes] : timeframes;
    if (list.length === 0) return;
    const pipeline = this.redis.multi();
    for (const timeframe of new Set(list)) pipeline.hincrby(this.versionsKey(symbol), timeframe, 1);
    await pipeline.exec();
  }

  /**
   * The versions an answer for `timeframe` depends on: its own and every finer timeframe's
   * (it may be derived from them), as a compact string for the cache key.
   */
  async versionTag(symbol: string, timeframe: Timeframe): Promise<string> {
    const upTo = TIMEFRAMES.slice(0, timeframeRank(timeframe) + 1);
    const versions = await this.redis.hmget(this.versionsKey(symbol), ...upTo);
    return versions.map((version) => version ?? '0').join('.');
  }

  /** The cache key of a query (any JSON-able description) at the given version tag. */
  key(query: unknown, versionTag: string): string {
    const digest = createHash('sha256').update(JSON.stringify(query)).update('\n').update(versionTag).digest('base64url');
    return `${this.root}:answer:${digest}`;
  }

  async get(key: string): Promise<string | null> {
    const value = await this.redis.get(key);
    if (value === null) this.metrics.miss?.();
    else this.metrics.hit?.();
    return value;
  }

  /** Whether an answer is cached under the key (does not count as a hit or miss). */
  async has(key: string): Promise<boolean> {
    return (await this.redis.exists(key)) === 1;
  }

  async set(key: string, value: string): Promise<void> {
    await this.redis.set(key, value, 'EX', this.ttlSeconds);
  }

  private requestsKey(): string {
    return `${this.root}:requests`;
  }

  /**
   * Counts one request of a query (its canonical JSON), for "warm the N most requested". Only
   * the most requested MAX_TRACKED_QUERIES are kept, so the tally cannot grow without bound.
   */
  async recordRequest(query: unknown): Promise<void> {
    await this.redis
      .multi()
      .zincrby(this.requestsKey(), 1, JSON.stringify(query))
      .zremrangebyrank(this.requestsKey(), 0, -(MAX_TRACKED_QUERIES + 1))
      .exec();
  }

  /** The `n` most requested queries, most requested first, with their counts. */
  async topRequested(n: number): Promise<Array<{ query: unknown; requests: number }>> {
    const flat = await this.redis.zrevrange(this.requestsKey(), 0, n - 1, 'WITHSCORES');
    const out: Array<{ query: unknown; requests: number }> = [];
    for (let i = 0; i < flat.length; i += 2) out.push({ query: JSON.parse(flat[i]) as unknown, requests: Number(flat[i + 1]) });
    return out;
  }
}
