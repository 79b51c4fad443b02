import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../logger.js';
import { AUTH_CHALLENGE } from './auth.js';
import { UnknownJobError } from '../queues/producer.js';
import { ValidationError } from '../validation.js';

/** An HTTP error with a status and a message meant for the caller. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

const REDIS_DOWN = /enableOfflineQueue|Connection is closed|MaxRetriesPerRequest|ECONNREFUSED.*6379|Redis not ready/i;
const POSTGRES_DOWN =
  /ECONNREFUSED|terminating connection|Connection terminated|KnexTimeoutError|the database system is (starting up|shutting down)|57P0[1-3]/;

/** Classifies an error thrown while serving a request: whose fault it is and what to say. */
export function describeError(error: unknown): { status: number; body: Record<string, unknown> } {
  if (error instanceof ValidationError) return { status: 400, body: { error: error.message, issues: error.issues } };
  if (error instanceof UnknownJobError) return { status: 404, body: { error: error.message } };
  if (error instanceof HttpError) return { status: error.status, body: { error: error.message } };
  const typed = error as { type?: string; status?: number; message?: string; name?: string; code?: string; limit?: number };
  if (typed.type === 'entity.too.large') {
    return { status: 413, body: { error: `request body exceeds the limit of ${typed.limit} bytes` } };
  }
  if (typed.type === 'entity.parse.failed')
    return { status: 400, body: { error: `request body is not valid JSON: ${typed.message}` } };
  if (typed.type === 'encoding.unsupported' || typed.type === 'charset.unsupported') {
    return { status: 415, body: { error: typed.message ?? 'unsupported encoding' } };
  }
  if (typeof typed.status === 'number' && typed.status >= 400 && typed.status < 500) {
    return { status: typed.status, body: { error: typed.message ?? 'bad request' } };
  }
  const text = `${typed.name ?? ''} ${typed.message ?? ''} ${typed.code ?? ''}`;
  if (REDIS_DOWN.test(text)) return { status: 503, body: { error: 'Redis is unreachable; try again shortly' } };
  if (POSTGRES_DOWN.test(text)) return { status: 503, body: { error: 'PostgreSQL is unreachable; try again shortly' } };
  return { status: 500, body: { error: 'internal error' } };
}

export function errorHandler(logger: Logger) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const { status, body } = describeError(error);
    if (status >= 500) logger.error({ err: error, method: req.method, url: req.originalUrl }, `${req.method} ${req.path} failed`);
    if (res.headersSent) {
      res.end();
      return;
    }
    if (status === 503) res.set('Retry-After', '5');
    if (status === 401) res.set('WWW-Authenticate', AUTH_CHALLENGE);
    res.status(status).json(body);
  };
}
