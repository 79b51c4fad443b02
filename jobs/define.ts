import type { JobsOptions } from 'bullmq';
import type { z } from 'zod';
import type { BarsCache } from '../src/bars/cache.js';
import type { Knex } from '../src/shared/db.js';
import type { Logger } from '../src/shared/logger.js';
import type { Publisher } from '../src/notify/publisher.js';
import type { QueueName } from '../src/queues/names.js';
import type { KernelPool } from '../src/kernels/pool.js';

/** What a job knows about itself while it runs. */
export interface JobInfo {
  id: string;
  name: string;
  queue: QueueName;
  /** 1-based number of this attempt. */
  attempt: number;
  attempts: number;
  /** When the job was due: its scheduler slot for scheduled jobs, else when it was added (epoch ms). */
  scheduledFor: number;
}

/** Adds a job from inside a handler, with the same validation as the API. */
export type EnqueueFn = (name: string, payload: unknown, options?: { jobId?: string }) => Promise<{ id: string }>;

/** A job to run as a child of the running one; with `children` it is a flow of its own. */
export interface ChildJob {
  name: string;
  payload: unknown;
  /** Deterministic id, so adding the same child again (a re-entry, a retry) adds nothing. */
  jobId: string;
  /**
   * When this child fails for good: `report` (default) runs the parent at once, which sees the
   * reason in `failures()`; `ignore` lets the parent wait for its other children as usual.
   */
  onFailure?: 'report' | 'ignore';
  children?: ChildJob[];
}

/**
 * BullMQ flow children of the running job. `waitForChildren` parks the job without holding
 * a worker slot; once every child has finished BullMQ runs the handler again from the top,
 * so a handler that spawns children reads `results()` first and adds only what is missing.
 */
export interface ChildJobs {
  /** Adds the children (validated like enqueue) atomically, under this job. */
  add(children: readonly ChildJob[]): Promise<void>;
  /** Return values of the children that completed, by child job id. */
  results(): Promise<Map<string, unknown>>;
  /** Failure reasons of the children that failed for good, by child job id. */
  failures(): Promise<Map<string, string>>;
  /** Parks the job until its children finish (the handler is re-run then); returns at once if none is pending. */
  waitForChildren(): Promise<void>;
}

/**
 * What a handler receives: its own job, database access, the kernel pool, the event
 * publisher, a job-scoped logger, progress reporting and an abort signal. Nothing else.
 */
export interface JobContext {
  job: JobInfo;
  db: Knex;
  /** The production schema. */
  schema: string;
  /** The schema scenario data goes to instead of production tables. */
  sandboxSchema: string;
  /** Directories a job may read input files from. */
  importRoots: string[];
  pool: KernelPool;
  publisher: Publisher;
  logger: Logger;
  /** Aborted when the job is cancelled or the worker shuts down; pass it to pool.run. */
  signal: AbortSignal;
  /** Reports percent done (0–100) to Bull Board and SSE; a message also goes to the job log. */
  progress(percent: number, message?: string): Promise<void>;
  /** Appends a line to the job's log (Bull Board shows it). */
  log(message: string): Promise<void>;
  enqueue: EnqueueFn;
  children: ChildJobs;
  /** Bar-query cache: bump a symbol's timeframes after committing bars so no reader sees stale ones. */
  barsCache: BarsCache;
}

/** The BullMQ options a job kind is added with unless the caller overrides them. */
export type JobDefaults = Pick<JobsOptions, 'attempts' | 'backoff' | 'removeOnComplete' | 'removeOnFail' | 'priority'>;

/**
 * One job kind. `handle` throws to fail (BullMQ retries per `defaults.attempts`; an
 * UnrecoverableError is never retried) and returns its result to succeed.
 */
export interface JobDefinition<Name extends string = string, Schema extends z.ZodType = z.ZodType, Result = unknown> {
  name: Name;
  queue: QueueName;
  description: string;
  schema: Schema;
  defaults: JobDefaults;
  /**
   * A deterministic job id for payloads whose repetition would be harmful (the same trading
   * date, say); BullMQ ignores an add whose id is already present.
   */
  jobId?(payload: z.output<Schema>): string | undefined;
  handle(ctx: JobContext, payload: z.output<Schema>): Promise<Result>;
}

export function defineJob<Name extends string, Schema extends z.ZodType, Result>(
  definition: JobDefinition<Name, Schema, Result>,
): JobDefinition<Name, Schema, Result> {
  return definition;
}

const DAY = 24 * 3600;

/** Retention and retry settings most jobs share: 3 attempts, exponential backoff from 2 s. */
export const STANDARD_DEFAULTS: JobDefaults = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 2_000, jitter: 0.2 },
  removeOnComplete: { age: 7 * DAY, count: 5_000 },
  removeOnFail: { age: 30 * DAY, count: 20_000 },
};
