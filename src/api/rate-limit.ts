import type { NextFunction, Request, Response } from 'express';
import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { tokenId } from './auth.js';
import { HttpError } from './errors.js';

/**
 * Limits how many jobs a token may enqueue per minute. The counters live in Redis, so the
 * limit holds across every web process. A request costs one point per job it enqueues (or
 * puts back), charged after validation: a refused request costs nothing.
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
   * Charges `points` (the jobs about to be enqueued) to the request's token and sets the
   * RateLimit headers; over the limit, throws a 429 naming when to retry (Retry-After set).
   * Called after validation, so a refused request costs nothing.
   */
  async charge(req: Request, res: Response, points: number): Promise<void> {
    if (points <= 0) return;
    res.set('RateLimit-Limit', String(this.perMinute));
    try {
      const result = await this.limiter.consume(tokenId(req), points);
      res.set('RateLimit-Remaining', String(result.remainingPoints));
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      res.set('Retry-After', String(retryAfter));
      res.set('RateLimit-Remaining', '0');
      throw new HttpError(
        429,
        `rate limit of ${this.perMinute} jobs per minute for this token reached; retry in ${retryAfter} s`,
      );
    }
  }

  /** Gives back points charged for jobs that were not enqueued after all. */
  async refund(req: Request, points: number): Promise<void> {
    if (points > 0) await this.limiter.reward(tokenId(req), points);
  }

  /** Express middleware charging `cost(req)` points, for routes that add jobs without validating them first. */
  middleware(cost: (req: Request) => number = () => 1) {
    return (req: Request, res: Response, next: NextFunction) => {
      this.charge(req, res, cost(req)).then(() => next(), next);
    };
  }
}
