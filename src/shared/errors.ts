import { closestMatch, didYouMean } from './suggest.js';

/**
 * The errors tickforge raises on purpose. Each says whether trying again can help and which
 * HTTP status answers it, so the worker runtime (retry or fail for good) and the API (which
 * status) read a property instead of matching messages.
 */
export abstract class TickforgeError extends Error {
  /** Whether the same request or job may succeed if tried again later. */
  abstract readonly retryable: boolean;
  /** The HTTP status that answers this error when it reaches the API. */
  abstract readonly status: number;

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export interface ValidationIssue {
  /** Dotted path of the field, such as `payloads.3.timeframe`; empty for the whole value. */
  path: string;
  message: string;
}

/** A payload, body or query that breaks its schema or its rules; `issues` name each field. */
export class ValidationError extends TickforgeError {
  readonly retryable = false;
  readonly status = 400;

  constructor(
    readonly issues: ValidationIssue[],
    what = 'payload',
  ) {
    super(`invalid ${what}: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`);
  }
}

/** Something the caller named does not exist. */
export class NotFoundError extends TickforgeError {
  readonly retryable = false;
  readonly status = 404;
}

/** The name of a job kind that no contract defines. */
export class UnknownJobError extends NotFoundError {
  constructor(
    readonly jobName: string,
    known: readonly string[],
  ) {
    super(`unknown job ${JSON.stringify(jobName)}${didYouMean(closestMatch(jobName, known))}; known jobs: ${known.join(', ')}`);
  }
}

/** A job kind that only another job adds, named by a caller from outside. */
export class InternalJobError extends NotFoundError {
  constructor(readonly jobName: string) {
    super(`${JSON.stringify(jobName)} is added only by another job and cannot be enqueued directly`);
  }
}

/** The request contradicts the current state: a job that is not failed, data replaced since. */
export class ConflictError extends TickforgeError {
  readonly retryable = false;
  readonly status = 409;
}

/**
 * A job whose input can never succeed as given — an unreadable file, no usable row, a range
 * the data does not cover. The job fails at once instead of using its retries.
 */
export class InputError extends TickforgeError {
  readonly retryable = false;
  readonly status = 422;
}

/** A service tickforge depends on (Redis, PostgreSQL) cannot be reached right now. */
export class UnavailableError extends TickforgeError {
  readonly retryable = true;
  readonly status = 503;

  constructor(
    readonly service: 'Redis' | 'PostgreSQL',
    detail?: string,
  ) {
    super(`${service} is unreachable; try again shortly${detail ? ` (${detail})` : ''}`);
  }
}

/** A job whose child jobs failed for good: they used their own retries, so retrying this one cannot help. */
export class DependencyFailedError extends TickforgeError {
  readonly retryable = false;
  readonly status = 424;
}

/**
 * Whether a failed attempt may succeed on a retry: only errors known to be final say no — ours
 * that say so, a value PostgreSQL cannot store or compute (SQLSTATE class 22, data exception),
 * and a RangeError (a number or date a computation cannot represent). The same input fails
 * the same way every time, so retrying only delays the answer.
 */
export function isRetryable(error: unknown): boolean {
  if (error instanceof TickforgeError) return error.retryable;
  if (error instanceof RangeError) return false;
  const database = error as { code?: unknown; routine?: unknown };
  if (typeof database?.code === 'string' && database.routine !== undefined && database.code.startsWith('22')) return false;
  return true;
}

/**
 * The message a failure reports. knex prefixes database errors with the whole SQL text; keep
 * only what PostgreSQL said, after the last " - " knex puts before it.
 */
export function errorMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const database = error as Error & { code?: string; routine?: string };
  if (database.code && database.routine) {
    const cut = error.message.lastIndexOf(' - ');
    const said = cut < 0 ? error.message : error.message.slice(cut + 3);
    return `database error ${database.code}: ${said}`;
  }
  return error.message;
}
