import type { RedisClient } from '../shared/redis.js';
import { createHash } from 'node:crypto';

/** How long a cached analytics answer lives at most; its key names the analysis, the TTL only frees memory. */
export const ANALYTICS_CACHE_TTL_SECONDS = 600;

/**
 * Cached analytics answers under `${prefix}:analytics-cache:`. A key names the stored analysis
 * the answer was built from (or the latest analysis id, for answers computed from the tables),
 * so a new analysis makes every older answer unreachable: invalidation needs no delete, and
 * the old entries expire.
 */
export class AnalyticsCache {
  private readonly root: string;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
    private readonly ttlSeconds = ANALYTICS_CACHE_TTL_SECONDS,
  ) {
    this.root = `${prefix}:analytics-cache`;
  }

  /** The key of a route's answer to a request, built on analysis `version`. */
  key(route: string, request: unknown, version: string): string {
    const digest = createHash('sha256')
      .update(JSON.stringify([route, request]))
      .digest('base64url')
      .slice(0, 32);
    return `${this.root}:${version}:${digest}`;
  }

  /** The cached answer, or computes it, stores it and returns it. */
  async through(key: string, compute: () => Promise<unknown>): Promise<string> {
    const cached = await this.redis.get(key);
    if (cached !== null) return cached;
    const body = JSON.stringify(await compute());
    await this.redis.set(key, body, 'EX', this.ttlSeconds);
    return body;
  }
}
