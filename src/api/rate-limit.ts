import type { NextFunction, Request, Response } from 'express';
import type { RedisClient } from '../shared/redis.js';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { tokenId } from './auth.js';

/**
 * Limits how many jobs a token may enqueue per minute. The counters live in Redis, so the
 * limit holds across every web process. A request costs one point per job it enqueues.
 */
export class EnqueueRateLimit {
  private readonly limiter: RateLimiterRedis;

  constructor(
    redis: RedisClient,
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

  middleware(cost: (req: Request) => number = () => 1) {
    return async (req: Request, res: Response, next: NextFunction) => {
      const points = Math.max(1, cost(req));
      try {
        const result = await this.limiter.consume(tokenId(req), points);
        res.set('RateLimit-Limit', String(this.perMinute));
        res.set('RateLimit-Remaining', String(result.remainingPoints));
        next();
      } catch (rejection) {
        if (!(rejection instanceof RateLimiterRes)) return next(rejection);
        const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
        res.set('Retry-After', String(retryAfter));
        res.set('RateLimit-Limit', String(this.perMinute));
        res.set('RateLimit-Remaining', '0');
        res.status(429).json({
          error: `rate limit of ${this.perMinute} jobs per minute for this token reached; retry in ${retryAfter} s`,
        });
      }
    };
  }
}
