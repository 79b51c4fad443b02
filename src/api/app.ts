import type { RequestListener } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { RedisClient } from '../shared/redis.js';
import type { Config } from '../shared/config.js';
import type { Knex } from '../shared/db.js';
import { UnavailableError } from '../shared/errors.js';
import { Store } from '../store/store.js';
import type { Logger } from '../shared/logger.js';
import type { QueueName } from '../queues/names.js';
import type { Producer } from '../queues/producer.js';
import { lastEodRun } from '../metrics/gather.js';
import { accessLog } from './access-log.js';
import { withCachedRoute } from './cached-route.js';
import { securityHeaders } from './security-headers.js';
import { auditTrail } from './audit.js';
import { requireRole, roleOf, type Tokens } from './auth.js';
import { BOARD_PATH, bullBoard } from './board.js';
import { HttpError, errorHandler, redisAnswers } from './errors.js';
import type { JobEventHub } from './job-events.js';
import type { WebMetrics } from './metrics.js';
import { ComputeRateLimit, EnqueueRateLimit } from './rate-limit.js';
import { openApiDocument } from './openapi.js';
import { deadLettersRouter } from './routes/dead-letters.js';
import { futuresRouter } from '../futures/routes.js';
import { jobsRouter } from './routes/jobs.js';
import { monitoringRouter } from './routes/monitoring.js';
import { systemRouter } from './routes/system.js';
import { universesRouter } from '../universes/routes.js';
import { scenariosRouter } from '../scenarios/routes.js';
import { barsRoutes } from '../bars/routes.js';
import type { BarsCache } from '../bars/cache.js';
import { CONSOLE_PATH, consoleRouter } from '../console/router.js';
import { apiDocsRouter } from './docs.js';
import { analyticsRouter } from '../patterns/analytics-routes.js';
import { detectionsRouter } from '../patterns/detections-routes.js';

export interface AppDeps {
  config: Config;
  logger: Logger;
  db: Knex;
  redis: RedisClient;
  producer: Producer;
  events: JobEventHub;
  metrics: WebMetrics;
  queues: readonly QueueName[];
  /** The bars cache GET /api/bars answers through. */
  barsCache: BarsCache;
}

/**
 * The HTTP API: job submission and status, live progress, health, metrics and Bull Board, through
 * Express; cached GET /api/bars answers straight from memory in front of it.
 */
export function createApp(deps: AppDeps): RequestListener {
  const { config, logger, db, redis, producer, events, metrics, queues, barsCache } = deps;
  const tokens: Tokens = { write: config.apiToken, read: config.readToken };
  const rateLimit = new EnqueueRateLimit(redis, config.prefix, config.rateLimitPerMinute);
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('trust proxy', 'loopback');
  app.use(accessLog(logger, tokens));
  app.use(metrics.middleware());
  app.use(securityHeaders());

  const system = systemRouter({ config, db, redis, producer, metrics, queues, tokens });
  app.use(system.root.router);

  const store = new Store(db, config.dbSchema);
  app.use(auditTrail(store.audit, tokens, logger));

  const writeBoard = bullBoard(producer, queues, false);
  const readBoard = bullBoard(producer, queues, true);
  // Adding a job from Bull Board counts against the token's enqueue limit like the API does.
  app.post(`${BOARD_PATH}/api/queues/:queueName/add`, requireRole('write', tokens), rateLimit.middleware());
  app.use(
    BOARD_PATH,
    requireRole('read', tokens),
    // Bull Board answers its own errors with a 500; a Redis that is down or not answering is a 503.
    async (_req: Request, _res: Response, next: NextFunction) => {
      next(redis.status === 'ready' && (await redisAnswers(redis, config.prefix)) ? undefined : new UnavailableError('Redis'));
    },
    (req: Request, res: Response, next: NextFunction) => (req.role === 'write' ? writeBoard : readBoard)(req, res, next),
  );

  app.use(CONSOLE_PATH, consoleRouter(tokens, { board: BOARD_PATH, apiDocs: '/api/docs/', health: '/api/system/health' }));

  const bars = barsRoutes(
    { store, cache: barsCache, computeLimit: new ComputeRateLimit(redis, config.prefix, config.cacheMissRateLimit) },
    tokens,
  );
  const routers = [
    system.api,
    deadLettersRouter(producer, tokens, queues, rateLimit),
    jobsRouter(producer, events, tokens, rateLimit, redis, store.jobHistory),
    futuresRouter(store, tokens),
    universesRouter(store, tokens),
    scenariosRouter(store, tokens, config.sandboxSchemaLimit),
    bars.api,
    monitoringRouter({
      redis,
      prefix: config.prefix,
      db,
      tokens,
      audit: store.audit,
      lastEodRun: () => lastEodRun({ db, eodQueue: producer.queue('sync') }),
      sseConnections: () => events.connections,
    }),
    analyticsRouter({ store, redis, prefix: config.prefix }, tokens),
    detectionsRouter(store, tokens),
  ];
  const openApi = openApiDocument([system.root, ...routers]);

  const api = express.Router();
  // The API's own description is public, like any published interface document.
  api.get('/openapi.json', (_req, res) => {
    res.json(openApi);
  });
  api.use('/docs', apiDocsRouter());
  api.use((_req, _res, next) => {
    // Fail fast with 503 rather than queueing a request behind a connection that is down.
    if (redis.status !== 'ready') return next(new UnavailableError('Redis'));
    next();
  });
  api.use((req, _res, next) => {
    const hasBody = Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding') !== undefined;
    if (req.method === 'POST' && hasBody && !req.is('application/json')) {
      return next(
        new HttpError(
          415,
          `request bodies must be JSON (Content-Type: application/json), not ${req.get('content-type') ?? 'unlabelled'}`,
        ),
      );
    }
    next();
  });
  api.use(express.json({ limit: config.bodyLimit, strict: false }));
  for (const router of routers) api.use(router.router);
  api.use((req, _res, next) => {
    const known = roleOf(req, tokens) !== undefined || (tokens.write === undefined && tokens.read === undefined);
    next(
      known
        ? new HttpError(404, `no route ${req.method} ${req.baseUrl}${req.path}`)
        : new HttpError(401, 'a valid bearer token is required (Authorization: Bearer <token>)'),
    );
  });
  app.use('/api', api);

  app.use((req, _res, next) => next(new HttpError(404, `no route ${req.method} ${req.path}`)));
  app.use(errorHandler(logger, { redis, prefix: config.prefix, db }));
  return withCachedRoute(app, bars.hits, { tokens, logger, metrics, ready: () => redis.status === 'ready' });
}
