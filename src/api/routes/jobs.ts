import type { Request, Response } from 'express';
import type { Job } from 'bullmq';
import { z } from 'zod';
import { isQueueName, QUEUES, type QueueName } from '../../queues/names.js';
import { enqueuedJobSchema, type Producer } from '../../queues/producer.js';
import { cancelJob } from '../../queues/cancel.js';
import { progressOf } from '../../queues/progress.js';
import type { JobHistoryRepository } from '../../shared/job-history.repository.js';
import type { RedisClient } from '../../shared/redis.js';
import { parseOrThrow } from '../../shared/validation.js';
import { requireRole, type Tokens } from '../auth.js';
import { HttpError } from '../errors.js';
import type { JobEventHub } from '../job-events.js';
import { ApiRouter, sendJson } from '../openapi.js';
import type { EnqueueRateLimit } from '../rate-limit.js';

/** How often an open event stream re-checks the job, as a safety net and a keep-alive. */
const HEARTBEAT_MS = 5_000;

const instantOrNull = z.string().nullable().describe('ISO-8601 UTC, or null when it has not happened');

/** The JSON view of a job that GET /api/jobs/:queue/:id returns (and the SSE stream's first event). */
export const jobViewSchema = z.object({
  id: z.string(),
  queue: z.enum(QUEUES),
  name: z.string(),
  state: z.string().describe('waiting, active, delayed, prioritized, waiting-children, completed, failed or unknown'),
  progress: z.number().describe('0–100, as progressPercent'),
  progressPercent: z.number(),
  currentStep: z.string().nullable().describe('the step in words'),
  symbol: z.string().nullable(),
  estimatedCompletion: instantOrNull,
  attemptsMade: z.number().int(),
  attempts: z.number().int(),
  data: z.unknown().describe('the payload'),
  result: z.unknown().describe('what the job returned, or null'),
  failedReason: z.string().nullable(),
  timestamps: z.object({ created: z.string(), processed: instantOrNull, finished: instantOrNull }),
});

/** The JSON view of a job that GET /api/jobs/:queue/:id returns. */
export async function describeJob(job: Job, queue: QueueName): Promise<z.output<typeof jobViewSchema>> {
  return {
    id: String(job.id),
    queue,
    name: job.name,
    state: await job.getState(),
    // The bare percentage as before, then the step, symbol and estimated completion.
    progress: progressOf(job.progress).progressPercent,
    ...progressOf(job.progress),
    attemptsMade: job.attemptsMade,
    attempts: job.opts.attempts ?? 1,
    data: job.data,
    result: job.returnvalue ?? null,
    failedReason: job.failedReason || null,
    timestamps: {
      created: new Date(job.timestamp).toISOString(),
      processed: job.processedOn ? new Date(job.processedOn).toISOString() : null,
      finished: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
    },
  };
}

/** The `:queue` route parameter, or a 404 naming it. */
export function queueParam(req: Request): QueueName {
  const queue = String(req.params.queue);
  if (!isQueueName(queue)) throw new HttpError(404, `unknown queue ${JSON.stringify(queue.slice(0, 40))}`);
  return queue;
}

/** The job named by the `:queue` and `:id` route parameters, or a 404 naming what is missing. */
export async function findJob(producer: Producer, req: Request): Promise<{ job: Job; queue: QueueName }> {
  const queue = queueParam(req);
  const id = String(req.params.id);
  const job = await producer.queue(queue).getJob(id);
  if (!job) throw new HttpError(404, `no job ${JSON.stringify(id.slice(0, 80))} in queue ${queue}`);
  return { job, queue };
}

function idempotencyKey(req: Request): string | undefined {
  const key = req.get('idempotency-key');
  if (key === undefined) return undefined;
  if (key.length === 0 || key.length > 200) throw new HttpError(400, 'Idempotency-Key must be 1-200 characters');
  return key;
}

const cancelSchema = z
  .object({
    reason: z.string().min(1).max(500).default('cancelled over the API').describe('why, recorded as the failure reason'),
  })
  .strict();

/** Most payloads one bulk request may carry. */
export const MAX_BULK = 1_000;

const bulkSchema = z
  .object({ payloads: z.array(z.unknown()).min(1).max(MAX_BULK, `at most ${MAX_BULK} payloads per request`) })
  .strict();

const bulkEnqueuedSchema = z.object({ count: z.number().int(), jobs: z.array(enqueuedJobSchema) });

const cancelledSchema = z.object({
  id: z.string(),
  queue: z.enum(QUEUES),
  outcome: z.enum(['cancelling', 'removed']),
  state: z.string().describe('the state the job was in when cancelled'),
});

const JOB_PARAMS = { queue: 'queue name', id: 'job id' };

const historyQuerySchema = z
  .object({
    correlationId: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe('only the jobs of one root: a root job id, or the X-Request-Id of the API call that enqueued it'),
    queue: z.enum(QUEUES).optional(),
    name: z.string().min(1).max(100).optional().describe('job name'),
    outcome: z.enum(['completed', 'failed']).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

const historySchema = z.object({
  jobs: z.array(
    z.object({
      queue: z.string(),
      jobId: z.string(),
      name: z.string(),
      correlationId: z.string().nullable().describe('the root job or API request the job descends from; null for rows older than the column'),
      outcome: z.enum(['completed', 'failed']),
      attempts: z.number(),
      enqueuedAt: z.string(),
      startedAt: z.string().nullable(),
      finishedAt: z.string(),
      durationMs: z.number().nullable(),
      summary: z.unknown().describe('what the job returned (cut to its headline fields when large)'),
      error: z.string().nullable(),
    }),
  ),
});

export function jobsRouter(
  producer: Producer,
  events: JobEventHub,
  tokens: Tokens,
  rateLimit: EnqueueRateLimit,
  publisher: RedisClient,
  history: JobHistoryRepository,
): ApiRouter {
  const routes = new ApiRouter();

  routes.get(
    '/jobs/history',
    {
      summary:
        'Finished jobs from the job history, newest first; `correlationId` lists every job of one flow or EOD pipeline run, or of one API call',
      role: 'read',
      query: historyQuerySchema,
      responses: { 200: { description: 'the history rows', schema: historySchema }, 400: 'a bad query parameter, named' },
    },
    requireRole('read', tokens),
    async (req: Request, res: Response) => {
      const query = parseOrThrow(historyQuerySchema, req.query, 'query');
      sendJson(res, historySchema, { jobs: await history.list(query) });
    },
  );

  routes.post(
    '/jobs/:name/bulk',
    {
      summary: `Validate and enqueue up to ${MAX_BULK} jobs of one kind; nothing is added if any payload is bad`,
      role: 'write',
      params: { name: 'job name' },
      body: bulkSchema,
      responses: {
        202: { description: 'every payload enqueued', schema: bulkEnqueuedSchema },
        400: 'a payload fails; issues name it as payloads.N.field',
        404: 'unknown job',
        429: 'rate limit',
      },
    },
    requireRole('write', tokens),
    async (req: Request, res: Response) => {
      const { payloads } = parseOrThrow(bulkSchema, req.body ?? {});
      const jobs = await producer.enqueueBulkByName(String(req.params.name), payloads, {
        beforeAdd: (count) => rateLimit.charge(req, res, count),
        correlationId: String(req.id),
      });
      sendJson(res, bulkEnqueuedSchema, { count: jobs.length, jobs }, 202);
    },
  );

  // Documented per job kind in the OpenAPI document, with each job's own payload schema.
  routes.router.post('/jobs/:name', requireRole('write', tokens), async (req: Request, res: Response) => {
    // No body at all is an empty payload; a JSON null is a payload, and a wrong one.
    const enqueued = await producer.enqueueByName(String(req.params.name), req.body === undefined ? {} : req.body, {
      idempotencyKey: idempotencyKey(req),
      beforeAdd: (count) => rateLimit.charge(req, res, count),
      // The request's X-Request-Id follows the job and everything it causes.
      correlationId: String(req.id),
    });
    res.status(202).location(`/api/jobs/${enqueued.queue}/${enqueued.id}`).json(enqueued);
  });

  routes.get(
    '/jobs/:queue/:id',
    {
      summary: 'A job: state, progress, attempts, payload, result or failure reason, timestamps',
      role: 'read',
      params: JOB_PARAMS,
      responses: { 200: { description: 'the job', schema: jobViewSchema }, 404: 'unknown queue or job' },
    },
    requireRole('read', tokens),
    async (req: Request, res: Response) => {
      const { job, queue } = await findJob(producer, req);
      sendJson(res, jobViewSchema, await describeJob(job, queue));
    },
  );

  routes.get(
    '/jobs/:queue/:id/events',
    {
      summary: 'Server-Sent Events of a job: state, then progress, then completed or failed',
      role: 'read',
      params: JOB_PARAMS,
      produces: 'text/event-stream',
      responses: { 200: 'the event stream', 404: 'unknown queue or job' },
    },
    requireRole('read', tokens),
    async (req: Request, res: Response) => {
      const { job, queue } = await findJob(producer, req);
      const jobId = job.id!;
      let ended = false;
      const send = (event: string, data: unknown) => {
        if (!ended) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      };
      const end = () => {
        if (ended) return;
        ended = true;
        unsubscribe();
        clearInterval(heartbeat);
        res.end();
      };
      // Subscribe before reading the state, so an event in between is not lost.
      const unsubscribe = events.subscribe(queue, jobId, (event) => {
        if (event.type === 'progress') {
          const progress = progressOf(event.data);
          send('progress', { progress: progress.progressPercent, ...progress });
        }
        else if (event.type === 'closing') {
          send('closing', { reason: 'the server is shutting down; reconnect to resume' });
          end();
        } else {
          send(event.type, event.type === 'completed' ? { result: event.returnvalue } : { failedReason: event.failedReason });
          end();
        }
      });
      const finishIfDone = async () => {
        const current = await producer.queue(queue).getJob(jobId);
        if (!current) {
          send('failed', { failedReason: 'the job was removed' });
          return end();
        }
        const state = await current.getState();
        if (state === 'completed') {
          send('completed', { result: current.returnvalue });
          end();
        } else if (state === 'failed') {
          send('failed', { failedReason: current.failedReason });
          end();
        }
      };
      const heartbeat = setInterval(() => {
        if (!ended) res.write(': keep-alive\n\n');
        finishIfDone().catch(() => undefined);
      }, HEARTBEAT_MS);
      req.on('close', end);

      res.status(200).set({
        'Content-Type': 'text/event-stream',
        'Cache-Control': 'no-cache, no-transform',
        Connection: 'keep-alive',
        'X-Accel-Buffering': 'no',
      });
      res.flushHeaders();
      send('state', await describeJob(job, queue));
      await finishIfDone();
    },
  );

  routes.post(
    '/jobs/:queue/:id/cancel',
    {
      summary:
        'Cancel a job: a running one is aborted by its worker (its kernel stops; it fails for good), one not started is removed',
      role: 'write',
      params: { queue: 'queue name', id: 'job id' },
      body: cancelSchema,
      responses: {
        202: { description: 'outcome cancelling: its worker was asked to stop it', schema: cancelledSchema },
        200: { description: 'outcome removed: it had not started', schema: cancelledSchema },
        404: 'unknown queue or job',
        409: 'the job has already finished',
      },
    },
    requireRole('write', tokens),
    async (req: Request, res: Response) => {
      const queue = queueParam(req);
      const id = String(req.params.id);
      const { reason } = parseOrThrow(cancelSchema, req.body ?? {});
      const result = await cancelJob(producer, publisher, { queue, id, reason });
      if (result.outcome === 'not-found') throw new HttpError(404, `no job ${JSON.stringify(id.slice(0, 80))} in queue ${queue}`);
      if (result.outcome === 'finished') throw new HttpError(409, `job ${id} has already ${result.state}; nothing to cancel`);
      sendJson(res, cancelledSchema, { id, queue, ...result }, result.outcome === 'cancelling' ? 202 : 200);
    },
  );

  return routes;
}
