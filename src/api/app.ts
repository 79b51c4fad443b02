import express, { type NextFunction, type Request, type Response } from 'express';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { Knex } from '../db/knex.js';
import { pendingMigrations } from '../db/knex.js';
import type { Logger } from '../logger.js';
import type { QueueName } from '../queues/names.js';
import type { Producer } from '../queues/producer.js';
import { requireRole, roleOf, type Tokens } from './auth.js';
import { BOARD_PATH, bullBoard } from './board.js';
import { HttpError, errorHandler } from './errors.js';
import type { JobEventHub } from './job-events.js';
import type { WebMetrics } from './metrics.js';
import { jobsRouter } from './routes/jobs.js';
import { barsRouter } from './routes/bars.js';

export interface AppDeps {
  config: Config;
  logger: Logger;
  db: Knex;
  redis: Redis;
  producer: Producer;
  events: JobEventHub;
  metrics: WebMetrics;
  queues: readonly QueueName[];
}

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

/** The HTTP API: job submission and status, live progress, health, metrics and Bull Board. */
export function createApp(deps: AppDeps): express.Express {
  const { config, logger, db, redis, producer, events, metrics, queues } = deps;
  const tokens: Tokens = { write: config.apiToken, read: config.readToken };
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(metrics.middleware());

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    const checks = await Promise.allSettled([
      withDeadline(redis.ping(), 2_000, 'Redis'),
      withDeadline(db.raw('SELECT 1'), 2_000, 'PostgreSQL'),
      withDeadline(pendingMigrations(db), 2_000, 'the migration check'),
    ]);
    const [redisCheck, postgresCheck, migrationCheck] = checks;
    const describe = (check: PromiseSettledResult<unknown>) =>
      check.status === 'fulfilled' ? 'ok' : String((check.reason as Error).message);
    const migrations =
      migrationCheck.status === 'rejected'
        ? describe(migrationCheck)
        : migrationCheck.value.length === 0
          ? 'ok'
          : `${migrationCheck.value.length} pending: run npx tickforge migrate`;
    const body = { redis: describe(redisCheck), postgres: describe(postgresCheck), migrations };
    const ready = Object.values(body).every((value) => value === 'ok');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', ...body });
  });

  app.get('/metrics', async (_req, res) => {
    const { contentType, body } = await metrics.render(redis, config.prefix);
    res.set('Content-Type', contentType).send(body);
  });

  const writeBoard = bullBoard(producer, queues, false);
  const readBoard = bullBoard(producer, queues, true);
  app.use(BOARD_PATH, requireRole('read', tokens, { browser: true }), (req: Request, res: Response, next: NextFunction) =>
    (req.role === 'write' ? writeBoard : readBoard)(req, res, next),
  );

  const api = express.Router();
  api.use((_req, _res, next) => {
    // Fail fast with 503 rather than queueing a request behind a connection that is down.
    if (redis.status !== 'ready') return next(new HttpError(503, 'Redis is unreachable; try again shortly'));
    next();
  });
  api.use(express.json({ limit: config.bodyLimit, strict: false }));
  api.use(jobsRouter(producer, events, tokens));
  api.use(barsRouter({ db, schema: config.dbSchema, redis, prefix: config.prefix, metrics }, tokens));
  api.use((req, _res, next) => {
    const known = roleOf(req, tokens) !== undefined || (tokens.write === undefined && tokens.read === undefined);
    next(known ? new HttpError(404, `no route ${req.method} ${req.baseUrl}${req.path}`) : new HttpError(401, 'a valid bearer token is required (Authorization: Bearer <token>)'));
  });
  app.use('/api', api);

  app.use((req, _res, next) => next(new HttpError(404, `no route ${req.method} ${req.path}`)));
  app.use(errorHandler(logger));
  return app;
}
