import type { Request, Response } from 'express';
import type { Redis } from 'ioredis';
import type { Config } from '../../shared/config.js';
import { pendingMigrations, type Knex } from '../../shared/db.js';
import type { QueueName } from '../../queues/names.js';
import type { Producer } from '../../queues/producer.js';
import { JobHistoryRepository } from '../../shared/job-history.repository.js';
import { VERSION } from '../../shared/version.js';
import { requireRole, type Tokens } from '../auth.js';
import type { WebMetrics } from '../metrics.js';
import { ApiRouter } from '../openapi.js';

async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const describe = (check: PromiseSettledResult<unknown>) =>
  check.status === 'fulfilled' ? 'ok' : String((check.reason as Error).message);

/** Redis, PostgreSQL and the migrations, each 'ok' or what is wrong. */
async function readiness(redis: Redis, db: Knex, schema: string) {
  const [redisCheck, postgresCheck, migrationCheck] = await Promise.allSettled([
    withDeadline(redis.ping(), 2_000, 'Redis'),
    withDeadline(db.raw('SELECT 1'), 2_000, 'PostgreSQL'),
    withDeadline(pendingMigrations(db, schema), 2_000, 'the migration check'),
  ]);
  const migrations =
    migrationCheck.status === 'rejected'
      ? describe(migrationCheck)
      : migrationCheck.value.length === 0
        ? 'ok'
        : `${migrationCheck.value.length} pending: run npx tickforge migrate`;
  return { redis: describe(redisCheck), postgres: describe(postgresCheck), migrations };
}

export interface SystemDeps {
  config: Config;
  db: Knex;
  redis: Redis;
  producer: Producer;
  metrics: WebMetrics;
  queues: readonly QueueName[];
  tokens: Tokens;
}

/** Liveness, readiness, Prometheus metrics, and a health summary meant for a person. */
export function systemRouter({ config, db, redis, producer, metrics, queues, tokens }: SystemDeps): {
  root: ApiRouter;
  api: ApiRouter;
} {
  const history = new JobHistoryRepository(db, config.dbSchema);
  const root = new ApiRouter('');
  root.get(
    '/healthz',
    { summary: 'Liveness: the process answers', role: 'public', responses: { 200: '{status: ok}' } },
    (_req, res) => {
      res.json({ status: 'ok' });
    },
  );
  root.get(
    '/readyz',
    {
      summary: 'Readiness: Redis, PostgreSQL and migrations',
      role: 'public',
      responses: { 200: 'ready', 503: 'what is not ready' },
    },
    async (_req: Request, res: Response) => {
      const checks = await readiness(redis, db, config.dbSchema);
      const ready = Object.values(checks).every((value) => value === 'ok');
      res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', ...checks });
    },
  );
  root.get(
    '/metrics',
    {
      summary: 'Prometheus metrics of this web process and of every live worker',
      role: 'public',
      produces: 'text/plain',
      responses: { 200: 'Prometheus text format' },
    },
    async (_req: Request, res: Response) => {
      const { contentType, body } = await metrics.render(redis, config.prefix);
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
      responses: { 200: 'the summary' },
    },
    requireRole('read', tokens),
    async (_req: Request, res: Response) => {
      const [checks, queueStates, workers, pools, recentFailures] = await Promise.all([
        readiness(redis, db, config.dbSchema),
        Promise.all(
          queues.map(async (name) => {
            const queue = producer.queue(name);
            const [counts, [oldest]] = await Promise.all([
              queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'),
              queue.getJobs(['waiting'], 0, 0, true),
            ]);
            return {
              queue: name,
              ...counts,
              oldestWaitingSeconds: oldest ? Math.round((Date.now() - oldest.timestamp) / 1000) : 0,
            };
          }),
        ),
        Promise.all(queues.map(async (name) => ({ queue: name, workers: await producer.queue(name).getWorkersCount() }))),
        metrics.poolSummary(redis, config.prefix),
        history.recentFailures(1),
      ]);
      const healthy = Object.values(checks).every((value) => value === 'ok');
      res.json({
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
