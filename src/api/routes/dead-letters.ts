import type { Request, Response } from 'express';
import { z } from 'zod';
import { QUEUES, type QueueName } from '../../queues/names.js';
import { failedPageSchema, listFailed, putBack, redrive } from '../../queues/dead-letters.js';
import type { Producer } from '../../queues/producer.js';
import { parseOrThrow } from '../../shared/validation.js';
import { requireRole, type Tokens } from '../auth.js';
import { HttpError } from '../errors.js';
import { ApiRouter, sendJson } from '../openapi.js';
import type { EnqueueRateLimit } from '../rate-limit.js';
import { findJob, queueParam } from './jobs.js';

const instant = z
  .string()
  .refine((value) => Number.isFinite(Date.parse(value)), 'must be an ISO-8601 date or date-time')
  .transform((value) => Date.parse(value));

export const failedQuerySchema = z
  .object({
    queue: z.enum(QUEUES, { message: `must be one of ${QUEUES.join(', ')}` }).optional(),
    name: z.string().max(100).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  })
  .strict();

export const redriveSchema = z
  .object({
    name: z.string().max(100).optional().describe('only jobs of this name'),
    from: instant.optional().describe('only jobs that failed at or after this instant'),
    to: instant.optional().describe('only jobs that failed before this instant'),
    limit: z.number().int().min(1).max(100_000).default(10_000),
  })
  .strict();

const redrivenSchema = z.object({
  queue: z.enum(QUEUES),
  retried: z.number().int().describe('how many jobs this request put back'),
  ids: z.array(z.string()),
});

const retriedSchema = z.object({ id: z.string(), queue: z.enum(QUEUES), state: z.string() });

/**
 * Dead letters: jobs that used up their attempts stay in BullMQ's failed set (and Bull Board);
 * these routes list them and put them back, one by one or in bulk.
 */
export function deadLettersRouter(
  producer: Producer,
  tokens: Tokens,
  queues: readonly QueueName[],
  rateLimit: EnqueueRateLimit,
): ApiRouter {
  const routes = new ApiRouter();

  routes.get(
    '/jobs/failed',
    {
      summary: 'Jobs that used up their attempts, newest first, with reason, attempts and payload',
      role: 'read',
      query: failedQuerySchema,
      responses: { 200: { description: 'a page of failed jobs', schema: failedPageSchema }, 400: 'a bad query parameter, named' },
    },
    requireRole('read', tokens),
    async (req: Request, res: Response) => {
      const query = parseOrThrow(failedQuerySchema, req.query, 'query');
      sendJson(res, failedPageSchema, await listFailed(producer, query.queue ? [query.queue] : queues, query));
    },
  );

  routes.post(
    '/jobs/:queue/redrive',
    {
      summary: 'Put failed jobs of a queue back, filtered by job name and failure time, each with fresh attempts',
      role: 'write',
      params: { queue: 'queue name' },
      body: redriveSchema,
      responses: {
        200: { description: 'the jobs this request put back (safe to repeat)', schema: redrivenSchema },
        400: 'a bad filter, named',
        404: 'unknown queue',
        429: 'rate limit',
      },
    },
    requireRole('write', tokens),
    async (req: Request, res: Response) => {
      const queue = queueParam(req);
      const filter = parseOrThrow(redriveSchema, req.body ?? {});
      const ids = await redrive(producer, queue, filter, {
        charge: (count) => rateLimit.charge(req, res, count),
        refund: (count) => rateLimit.refund(req, count),
      });
      sendJson(res, redrivenSchema, { queue, retried: ids.length, ids });
    },
  );

  routes.post(
    '/jobs/:queue/:id/retry',
    {
      summary: 'Put one failed job back, with fresh attempts',
      role: 'write',
      params: { queue: 'queue name', id: 'job id' },
      responses: {
        200: { description: 'the job, put back', schema: retriedSchema },
        404: 'unknown queue or job',
        409: 'the job is not failed',
      },
    },
    requireRole('write', tokens),
    async (req: Request, res: Response) => {
      const { job, queue } = await findJob(producer, req);
      const state = await job.getState();
      const notFailed = (now: string) => new HttpError(409, `job ${job.id} is ${now}, not failed; only failed jobs can be retried`);
      if (state !== 'failed') throw notFailed(state);
      await rateLimit.charge(req, res, 1);
      if (!(await putBack(job))) {
        await rateLimit.refund(req, 1);
        throw notFailed(await job.getState());
      }
      sendJson(res, retriedSchema, { id: String(job.id), queue, state: await job.getState() });
    },
  );

  return routes;
}
