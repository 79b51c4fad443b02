import type { Job } from 'bullmq';
import { z } from 'zod';
import { QUEUES, type QueueName } from './names.js';
import type { Producer } from './producer.js';

/** A failed job as the dead-letter routes and the CLI show it. */
export const failedJobSchema = z.object({
  id: z.string(),
  queue: z.enum(QUEUES),
  name: z.string(),
  failedReason: z.string(),
  attemptsMade: z.number().int(),
  attempts: z.number().int(),
  data: z.unknown().describe('the payload'),
  failedAt: z.string().nullable().describe('ISO-8601 UTC'),
});

export type FailedJob = z.output<typeof failedJobSchema>;

/** A page of failed jobs and how many there are in all. */
export const failedPageSchema = z.object({ total: z.number().int(), offset: z.number().int(), jobs: z.array(failedJobSchema) });

/** The dead-letter view of a failed job: why, how often, and with what payload. */
export function describeFailed(job: Job, queue: QueueName): FailedJob {
  return {
    id: String(job.id),
    queue,
    name: job.name,
    failedReason: job.failedReason,
    attemptsMade: job.attemptsMade,
    attempts: job.opts.attempts ?? 1,
    data: job.data,
    failedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
  };
}

/** Which failed jobs: by job name and failure time (epoch ms, `to` exclusive). */
export interface FailedFilter {
  name?: string;
  from?: number;
  to?: number;
}

const PAGE = 500;

/** A redriven job gets its whole retry budget again, as if newly added. */
export const FRESH_ATTEMPTS = { resetAttemptsMade: true, resetAttemptsStarted: true };

/** Failed jobs of one queue, newest first, filtered by name and failure time. */
export async function* failedJobs(producer: Producer, queue: QueueName, filter: FailedFilter = {}): AsyncGenerator<Job> {
  for (let start = 0; ; start += PAGE) {
    const page = await producer.queue(queue).getFailed(start, start + PAGE - 1);
    if (page.length === 0) return;
    for (const job of page) {
      if (!job) continue;
      if (filter.name !== undefined && job.name !== filter.name) continue;
      const failedAt = job.finishedOn ?? 0;
      if (filter.from !== undefined && failedAt < filter.from) continue;
      if (filter.to !== undefined && failedAt >= filter.to) continue;
      yield job;
    }
  }
}

/**
 * One page of the failed jobs of several queues, and how many there are in all. Without a name
 * filter the page is read from Redis by rank and the total from the failed sets' sizes, so only
 * the page's jobs are loaded however many have failed; a name filter has to look at each job.
 */
export async function listFailed(
  producer: Producer,
  queues: readonly QueueName[],
  query: { name?: string; limit: number; offset: number },
): Promise<z.output<typeof failedPageSchema>> {
  const jobs: FailedJob[] = [];
  if (query.name !== undefined) {
    let total = 0;
    for (const queue of queues) {
      for await (const job of failedJobs(producer, queue, { name: query.name })) {
        if (total >= query.offset && jobs.length < query.limit) jobs.push(describeFailed(job, queue));
        total++;
      }
    }
    return { total, offset: query.offset, jobs };
  }
  const counts = await Promise.all(queues.map((queue) => producer.queue(queue).getFailedCount()));
  let skip = query.offset;
  for (const [index, queue] of queues.entries()) {
    if (jobs.length >= query.limit) break;
    if (skip >= counts[index]) {
      skip -= counts[index];
      continue;
    }
    const page = await producer.queue(queue).getFailed(skip, skip + query.limit - jobs.length - 1);
    for (const job of page) if (job) jobs.push(describeFailed(job, queue));
    skip = 0;
  }
  return { total: counts.reduce((sum, count) => sum + count, 0), offset: query.offset, jobs };
}

/**
 * Puts a failed job back with fresh attempts. False when it was no longer failed — another
 * redrive or retry put it back first — which is judged by its state, so repeating is safe.
 */
export async function putBack(job: Job): Promise<boolean> {
  try {
    await job.retry('failed', FRESH_ATTEMPTS);
    return true;
  } catch (error) {
    if ((await job.getState()) !== 'failed') return false;
    throw error;
  }
}

/**
 * Puts back up to `limit` failed jobs of a queue that match, each with fresh attempts, and
 * returns the ids of those this call put back: safe to repeat and to run at once from several
 * callers (each job is put back by one of them). `charge` runs with the number selected before
 * any is put back, and may refuse by throwing; `refund` gets the ones another caller took.
 */
export async function redrive(
  producer: Producer,
  queue: QueueName,
  filter: FailedFilter & { limit: number },
  billing: { charge?: (count: number) => Promise<void>; refund?: (count: number) => Promise<void> } = {},
): Promise<string[]> {
  // Collect first: retrying moves jobs out of the failed set while it is being paged.
  const selected: Job[] = [];
  for await (const job of failedJobs(producer, queue, filter)) {
    selected.push(job);
    if (selected.length >= filter.limit) break;
  }
  await billing.charge?.(selected.length);
  const putBackIds: string[] = [];
  for (const job of selected) if (await putBack(job)) putBackIds.push(job.id!);
  await billing.refund?.(selected.length - putBackIds.length);
  return putBackIds;
}
