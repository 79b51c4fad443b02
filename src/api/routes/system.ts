import type { Request, Response } from 'express';
import { z } from 'zod';
import type { RedisClient } from '../../shared/redis.js';
import type { Config } from '../../shared/config.js';
import type { Knex } from '../../shared/db.js';
import { readiness } from '../../shared/health.js';
import { liveWorkers, workersPerQueue } from '../../queues/heartbeat.js';
import type { QueueName } from '../../queues/names.js';
import type { Producer } from '../../queues/producer.js';
import { JobHistoryRepository } from '../../shared/job-history.repository.js';
import { VERSION } from '../../shared/version.js';
import { requireRole, type Tokens } from '../auth.js';
import type { WebMetrics } from '../metrics.js';
import { ApiRouter, sendJson } from '../openapi.js';

export interface SystemDeps {
  config: Config;
  db: Knex;
  redis: RedisClient;
  producer: Producer;
  metrics: WebMetrics;
  queues: readonly QueueName[];
  tokens: Tokens;
}

/** The job states the health summary counts per queue. */
const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'] as const;
type QueueState = (typeof QUEUE_STATES)[number];

const checkSchema = z.string().describe('ok, or what is wrong and the variable that points at it');
const checksSchema = z.object({ redis: checkSchema, postgres: checkSchema, migrations: checkSchema });

const livenessSchema = z.object({ status: z.literal('ok') });
const readinessSchema = checksSchema.extend({ status: z.enum(['ready', 'not ready']) });

const healthSchema = z.object({
  status: z.enum(['ok', 'degraded']),
  version: z.string(),
  uptimeSeconds: z.number().int(),
  services: checksSchema,
  queues: z.array(
    z.object({
      queue: z.string(),
      ...Object.fromEntries(QUEUE_STATES.map((state) => [state, z.number().int()])) as Record<QueueState, z.ZodNumber>,
      oldestWaitingSeconds: z.number().int(),
    }),
  ),
  workers: z.array(z.object({ queue: z.string(), workers: z.number().int() })).describe('live workers serving each queue'),
  pools: z.array(
    z.object({
      worker: z.string(),
      reportedAt: z.string(),
      threads: z.number(),
      utilization: z.number(),
      queuedTasks: z.number(),
    }),
  ),
  failuresLastHour: z.array(z.object({ queue: z.string(), name: z.string(), count: z.number().int() })),
});

/** Liveness, readiness, Prometheus metrics, and a health summary meant for a person. */
export function systemRouter({ config, db, redis, producer, metrics, queues, tokens }: SystemDeps): {
  root: ApiRouter;
  api: ApiRouter;
} {
  const history = new JobHistoryRepository(db, config.dbSchema);
  const root = new ApiRouter('');
  root.get(
    '/healthz',
    {
      summary: 'Liveness: the process answers',
      role: 'public',
      responses: { 200: { description: 'alive', schema: livenessSchema } },
    },
    (_req, res) => {
      sendJson(res, livenessSchema, { status: 'ok' });
    },
  );
  root.get(
    '/readyz',
    {
      summary: 'Readiness: Redis, PostgreSQL and migrations',
      role: 'public',
      responses: {
        200: { description: 'ready', schema: readinessSchema },
        503: { description: 'what is not ready', schema: readinessSchema },
      },
    },
    async (_req: Request, res: Response) => {
      const checks = await readiness(redis, db, config);
      const ready = Object.values(checks).every((value) => value === 'ok');
      sendJson(res, readinessSchema, { status: ready ? 'ready' : 'not ready', ...checks }, ready ? 200 : 503);
    },
  );
  root.get(
    '/metrics',
    {
      summary: 'Prometheus metrics of the deployment: totals every process added to, each live process with its instance, queues, Redis, EOD and alerts',
      role: 'public',
      produces: 'text/plain',
      responses: { 200: 'Prometheus text format' },
    },
    async (_req: Request, res: Response) => {
      const { contentType, body } = await metrics.render();
      res.set('Content-Type', contentType).send(body);
    },
  );

  const api = new ApiRouter();
  api.get(
    '/system/health',
    {
      summary:
        'One page for a person: services, queues (depth, oldest waiting, failures), workers, kernel pools, recent failures',
      role: 'read',
      responses: { 200: { description: 'the summary', schema: healthSchema } },
    },
    requireRole('read', tokens),
    async (_req: Request, res: Response) => {
      const [checks, queueStates, workers, pools, recentFailures] = await Promise.all([
        readiness(redis, db, config),
        Promise.all(
          queues.map(async (name) => {
            const queue = producer.queue(name);
            const [counts, [oldest]] = await Promise.all([
              queue.getJobCounts(...QUEUE_STATES),
              queue.getJobs(['waiting'], 0, 0, true),
            ]);
            return {
              queue: name,
              ...(Object.fromEntries(QUEUE_STATES.map((state) => [state, counts[state] ?? 0])) as Record<QueueState, number>),
              oldestWaitingSeconds: oldest ? Math.round((Date.now() - oldest.timestamp) / 1000) : 0,
            };
          }),
        ),
        liveWorkers(redis, config.prefix).then((live) => workersPerQueue(live, queues)),
        metrics.poolSummary(),
        history.recentFailures(1),
      ]);
      const healthy = Object.values(checks).every((value) => value === 'ok');
      sendJson(res, healthSchema, {
        status: healthy ? 'ok' : 'degraded',
        version: VERSION,
        uptimeSeconds: Math.round(process.uptime()),
        services: checks,
        queues: queueStates,
        workers,
        pools,
        failuresLastHour: recentFailures,
      });
    },
  );
  return { root, api };
}
