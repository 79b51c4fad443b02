import type { NextFunction, Request, Response } from 'express';
import type { RedisClient } from '../shared/redis.js';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { tokenId } from './auth.js';
import { HttpError } from './errors.js';

/** A budget of `points` a minute per key, counted in Redis so it holds across every web process. */
function perMinuteLimiter(redis: RedisClient, keyPrefix: string, points: number): RateLimiterRedis {
  return new RateLimiterRedis({ storeClient: redis, keyPrefix, points, duration: 60 });
}

/** Takes `points` from the budget of `key`: the points left, or the seconds until the budget allows it again. */
async function take(
  limiter: RateLimiterRedis,
  key: string,
  points: number,
): Promise<{ remaining: number } | { retryAfter: number }> {
  try {
    const result = await limiter.consume(key, points);
    return { remaining: result.remainingPoints };
  } catch (rejection) {
    if (!(rejection instanceof RateLimiterRes)) throw rejection;
    return { retryAfter: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)) };
  }
}

/**
 * Limits how many jobs a token may enqueue per minute. The counters live in Redis, so the
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
    this.limiter = perMinuteLimiter(redis, `${prefix}:ratelimit:enqueue`, perMinute);
  }

  /** Takes `points` from the budget of `key` (a tokenId), as `take` does. */
  consume(key: string, points = 1): Promise<{ remaining: number } | { retryAfter: number }> {
    return take(this.limiter, key, Math.max(1, points));
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
    const outcome = await this.consume(tokenId(req), points);
    if ('remaining' in outcome) {
      res.set('RateLimit-Remaining', String(outcome.remaining));
      return;
    }
    res.set('Retry-After', String(outcome.retryAfter));
    res.set('RateLimit-Remaining', '0');
    throw new HttpError(429, this.refusal(outcome.retryAfter));
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
 * answers; cache hits cost nothing), counted in Redis across every web process, so one client
 * cannot keep the web processes and PostgreSQL busy with distinct queries.
 */
export class ComputeRateLimit {
  private readonly limiter: RateLimiterRedis;

  constructor(
    redis: RedisClient,
    prefix: string,
    readonly perMinute: number,
  ) {
    this.limiter = perMinuteLimiter(redis, `${prefix}:ratelimit:bars-compute`, perMinute);
  }

  /**
   * Charges one computed answer to the request's token; when none is left, sets Retry-After and
   * throws ComputeLimitError (answered 429).
   */
  async charge(req: Request, res: Response): Promise<void> {
    const outcome = await take(this.limiter, tokenId(req), 1);
    if ('retryAfter' in outcome) {
      res.set('Retry-After', String(outcome.retryAfter));
      throw new ComputeLimitError(this.perMinute, outcome.retryAfter);
    }
  }
}
