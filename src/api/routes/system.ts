import type { Request, Response } from 'express';
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
import { ApiRouter } from '../openapi.js';

export interface SystemDeps {
  config: Config;
  db: Knex;
  redis: RedisClient;
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
      const checks = await readiness(redis, db, config);
      const ready = Object.values(checks).every((value) => value === 'ok');
      res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', ...checks });
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
      responses: { 200: 'the summary' },
    },
    requireRole('read', tokens),
    async (_req: Request, res: Response) => {
      const [checks, queueStates, workers, pools, recentFailures] = await Promise.all([
        readiness(redis, db, config),
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
        liveWorkers(redis, config.prefix).then((live) => workersPerQueue(live, queues)),
        metrics.poolSummary(),
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
