import type { NextFunction, Request, Response } from 'express';
import { pingNamespace, type RedisClient } from '../shared/redis.js';
import type { Queryable } from '../shared/db.js';
import { TickforgeError, UnavailableError, ValidationError } from '../shared/errors.js';
import { withDeadline } from '../shared/health.js';
import type { Logger } from '../shared/logger.js';
import { AUTH_CHALLENGE } from './auth.js';

/** An HTTP-only refusal (no token, wrong role, a body that is not JSON) with its status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** The errors body-parser and Express raise, told apart by their `type` and `status` fields. */
interface FrameworkError {
  type?: string;
  status?: number;
  message?: string;
  limit?: number;
}

/** The HTTP answer to an error: tickforge's own by their class, the framework's by their type, the rest 500. */
export function describeError(error: unknown): { status: number; body: Record<string, unknown> } {
  if (error instanceof ValidationError) return { status: 400, body: { error: error.message, issues: error.issues } };
  if (error instanceof TickforgeError || error instanceof HttpError) {
    return { status: error.status, body: { error: error.message } };
  }
  const framework = (typeof error === 'object' && error !== null ? error : {}) as FrameworkError;
  if (framework.type === 'entity.too.large') {
    return { status: 413, body: { error: `request body exceeds the limit of ${framework.limit} bytes` } };
  }
  if (framework.type === 'entity.parse.failed') {
    return { status: 400, body: { error: `request body is not valid JSON: ${framework.message}` } };
  }
  if (framework.type === 'encoding.unsupported' || framework.type === 'charset.unsupported') {
    return { status: 415, body: { error: framework.message ?? 'unsupported encoding' } };
  }
  if (typeof framework.status === 'number' && framework.status >= 400 && framework.status < 500) {
    return { status: framework.status, body: { error: framework.message ?? 'bad request' } };
  }
  return { status: 500, body: { error: 'internal error' } };
}

/** How long the error handler's check of PostgreSQL may take. */
const PROBE_MS = 2_000;

/** How long the error handler waits for Redis to answer. */
const REDIS_PROBE_MS = 500;

/**
 * True when the Redis server holding the namespace's keys answers in time: a connection can be
 * open to a server that has stopped, and on a cluster other nodes answer while that one is down.
 */
export async function redisAnswers(redis: RedisClient, prefix: string): Promise<boolean> {
  return withDeadline(pingNamespace(redis, prefix), REDIS_PROBE_MS, 'Redis').then(
    () => true,
    () => false,
  );
}

/** The services an API answer depends on, and the namespace whose keys it reads. */
export interface ServiceDependencies {
  redis: RedisClient;
  prefix: string;
  db: Queryable;
}

/**
 * How long after the Redis connection showed trouble (an error, a lost connection, a cluster
 * node gone) an unexpected error still counts as Redis being away. A failover on a cluster
 * makes commands time out while the slot moves; by the time the error handler probes, the
 * promoted replica may already answer.
 */
const REDIS_TROUBLE_WINDOW_MS = 10_000;

/** Whether the connection showed trouble within the window, judged by its events. */
function redisTrouble(redis: RedisClient): () => boolean {
  let last = Number.NEGATIVE_INFINITY;
  const mark = () => {
    last = Date.now();
  };
  for (const event of ['error', 'close', 'reconnecting', 'node error', '-node']) redis.on(event, mark);
  return () => Date.now() - last < REDIS_TROUBLE_WINDOW_MS;
}

/**
 * Which service tickforge depends on is down right now, judged by its state rather than by an
 * error's wording: Redis by its connection and its recent trouble, PostgreSQL by a short probe.
 */
async function unavailableService(
  { redis, prefix, db }: ServiceDependencies,
  redisTroubled: () => boolean,
): Promise<'Redis' | 'PostgreSQL' | undefined> {
  if (redis.status !== 'ready' || redisTroubled() || !(await redisAnswers(redis, prefix))) return 'Redis';
  try {
    await withDeadline(db.raw('SELECT 1'), PROBE_MS, 'PostgreSQL');
    return undefined;
  } catch {
    return 'PostgreSQL';
  }
}

/**
 * The API's last handler: answers with describeError's status and body. An unexpected error
 * while Redis or PostgreSQL is down is that service's 503 (with Retry-After), so clients retry
 * rather than report a bug.
 */
export function errorHandler(logger: Logger, dependencies: ServiceDependencies) {
  const redisTroubled = redisTrouble(dependencies.redis);
  return async (error: unknown, req: Request, res: Response, _next: NextFunction) => {
    let answer = describeError(error);
    if (answer.status === 500) {
      const down = await unavailableService(dependencies, redisTroubled);
      if (down) {
        answer = describeError(new UnavailableError(down));
        logger.warn(
          { err: error, method: req.method, url: req.originalUrl },
          `${req.method} ${req.path}: ${down} is unreachable`,
        );
      } else logger.error({ err: error, method: req.method, url: req.originalUrl }, `${req.method} ${req.path} failed`);
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    if (answer.status === 503) res.set('Retry-After', '5');
    if (answer.status === 401) res.set('WWW-Authenticate', AUTH_CHALLENGE);
    res.status(answer.status).json(answer.body);
  };
}
