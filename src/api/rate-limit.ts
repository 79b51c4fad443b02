import type { NextFunction, Request, Response } from 'express';
import type { RedisClient } from '../shared/redis.js';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { tokenId } from './auth.js';
import { HttpError } from './errors.js';

/**
 * Limits how many jobs a token may enqueue per minute. The counters live in RedisClient, so the
 * limit holds across every web process. A request costs one point per job it enqueues (or
 * puts back), charged after validation: a refused request costs nothing.
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
      throw new HttpError(429, this.refusal(retryAfter));
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

/** Raised when a token has had its share of computed bars answers this minute (429). */
export class ComputeLimitError extends HttpError {
  constructor(
    readonly perMinute: number,
    readonly retryAfterSeconds: number,
  ) {
    super(
      429,
      `this token had ${perMinute} bars answers computed in the last minute (cached answers do not count); retry in ${retryAfterSeconds} s`,
    );
  }
}

/**
 * Limits how many bars answers a token may have computed per minute (cache misses and streamed
 * answers; cache hits cost nothing), counted in RedisClient across every web process, so one client
 * cannot keep the web processes and PostgreSQL busy with distinct queries.
 */
export class ComputeRateLimit {
  private readonly limiter: RateLimiterRedis;

  constructor(
    redis: RedisClient,
    prefix: string,
    readonly perMinute: number,
  ) {
    this.limiter = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `${prefix}:ratelimit:bars-compute`,
      points: perMinute,
      duration: 60,
    });
  }

  /**
   * Charges one computed answer to the request's token; when none is left, sets Retry-After and
   * throws ComputeLimitError (answered 429).
   */
  async charge(req: Request, res: Response): Promise<void> {
    try {
      await this.limiter.consume(tokenId(req), 1);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      res.set('Retry-After', String(retryAfter));
      throw new ComputeLimitError(this.perMinute, retryAfter);
    }
  }
}
