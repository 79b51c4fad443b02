import type { NextFunction, Request, Response } from 'express';
import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { tokenId } from './auth.js';

/**
 * Limits how many jobs a token may enqueue per minute. The counters live in Redis, so the
 * limit holds across every web process. A request costs one point per job it enqueues.
 */
export class EnqueueRateLimit {
  private readonly limiter: RateLimiterRedis;

  constructor(
    redis: Redis,
    prefix: string,
    readonly perMinute: number,
  ) {
    this.limiter = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `${prefix}:ratelimit:enqueue`,
      points: perMinute,
      duration: 60,
    });
  }

  /**
   * Takes `points` from the budget of `key` (a tokenId): the points left, or the seconds until
   * the budget allows it again.
   */
  async consume(key: string, points = 1): Promise<{ remaining: number } | { retryAfter: number }> {
    try {
      const result = await this.limiter.consume(key, Math.max(1, points));
      return { remaining: result.remainingPoints };
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      return { retryAfter: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)) };
    }
  }

  /** The refusal of a request over the limit. */
  refusal(retryAfter: number): string {
    return `rate limit of ${this.perMinute} jobs per minute for this token reached; retry in ${retryAfter} s`;
  }

  middleware(cost: (req: Request) => number = () => 1) {
    return async (req: Request, res: Response, next: NextFunction) => {
      let outcome: Awaited<ReturnType<EnqueueRateLimit['consume']>>;
      try {
        outcome = await this.consume(tokenId(req), cost(req));
      } catch (error) {
        return next(error);
      }
      if ('remaining' in outcome) {
        res.set('RateLimit-Limit', String(this.perMinute));
        res.set('RateLimit-Remaining', String(outcome.remaining));
        next();
      } else {
        const { retryAfter } = outcome;
        res.set('Retry-After', String(retryAfter));
        res.set('RateLimit-Limit', String(this.perMinute));
        res.set('RateLimit-Remaining', '0');
        res.status(429).json({ error: this.refusal(retryAfter) });
      }
    };
  }
}
