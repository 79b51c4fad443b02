import type { Request, Response } from 'express';
import type { RedisClient } from '../../shared/redis.js';
import type { Knex } from 'knex';
import { z } from 'zod';
import { ALERT_RULES } from '../../metrics/alert-engine.js';
import { activeAlerts, recentTransitions } from '../../metrics/alert-monitor.js';
import type { EodRunState } from '../../metrics/alert-rules.js';
import { assessHealth, overallStatus, withSince } from '../../metrics/health.js';
import { readWindow } from '../../metrics/performance.js';
import { gaugeValue, processResources } from '../../metrics/process.js';
import { redisFigures } from '../../metrics/redis-info.js';
import { liveProcesses } from '../../metrics/totals.js';
import { windowSchema } from '../../metrics/windows.js';
import { parseOrThrow } from '../../shared/validation.js';
import type { AuditRepository } from '../../shared/audit.repository.js';
import { requireRole, type Tokens } from '../auth.js';
import { ApiRouter } from '../openapi.js';

const stat = z.object({
  min: z.number(),
  max: z.number(),
  mean: z.number(),
  median: z.number(),
  p95: z.number(),
  p99: z.number(),
  sampleCount: z.number().int(),
});
const stats = z.record(z.string(), stat);

const windowQuerySchema = z.object({ window: windowSchema.default('5m') }).strict();

const performanceSchema = z.object({
  window: windowSchema,
  from: z.string(),
  to: z.string(),
  apiResponseTime: stats.describe('per route, ms'),
  jobDuration: stats.describe('per job name, ms'),
  queueWait: stats.describe('per job name, ms from enqueue to the first attempt'),
  postgresQueryTime: stats.describe('per statement kind, ms'),
  eventDeliveryLatency: stats.describe('per channel, ms from publish to a subscriber'),
  patternProcessing: stats.describe('per pattern, ms'),
  cacheHitRate: z.record(z.string(), z.object({ hits: z.number(), misses: z.number(), hitRate: z.number() })),
  throughput: z.object({ requestsPerSecond: z.number(), jobsPerSecond: z.number(), eventsPerSecond: z.number() }),
  errorRate: z.record(z.string(), z.object({ operations: z.number(), errors: z.number(), errorRate: z.number() })),
  processes: z.array(
    z.object({
      instance: z.string(),
      cpuPercent: z.number(),
      residentMemoryBytes: z.number(),
      heapUsedBytes: z.number(),
      eventLoopLagP99Ms: z.number(),
      uptimeSeconds: z.number(),
      reportedAt: z.string(),
      postgresPool: z.object({ inUse: z.number(), size: z.number() }).nullable(),
    }),
  ),
  redis: z.object({ usedMemoryBytes: z.number(), maxMemoryBytes: z.number(), connectedClients: z.number() }),
  sseConnections: z.number().int(),
  uptimeSeconds: z.number(),
});

const alertSchema = z.object({
  id: z.string(),
  rule: z.enum(ALERT_RULES),
  subject: z.string(),
  severity: z.enum(['warning', 'critical']),
  value: z.number(),
  threshold: z.number(),
  message: z.string(),
  since: z.string(),
  resolvedAt: z.string().optional(),
});

const alertsSchema = z.object({
  active: z.array(alertSchema),
  recent: z.array(z.object({ state: z.enum(['firing', 'resolved']), at: z.string(), alert: alertSchema })),
});

const componentSchema = z.object({
  id: z.string(),
  kind: z.enum(['web', 'worker', 'scheduler', 'postgres', 'redis', 'kernel-pool', 'eod', 'queues']),
  status: z.enum(['ok', 'degraded', 'down']),
  reason: z.string().optional(),
  since: z.string(),
  queues: z.array(z.string()).optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});

const healthSchema = z.object({
  status: z.enum(['ok', 'degraded', 'down']),
  checkedAt: z.string(),
  components: z.array(componentSchema),
  alerts: z.array(alertSchema),
});

const auditQuerySchema = z
  .object({
    action: z.string().min(1).optional(),
    since: z.iso.datetime({ offset: true }).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

const auditSchema = z.object({
  entries: z.array(
    z.object({
      at: z.string(),
      actor: z.string(),
      action: z.string(),
      method: z.string(),
      route: z.string(),
      status: z.number(),
      queue: z.string().nullable(),
      jobName: z.string().nullable(),
      jobIds: z.array(z.string()),
      requestId: z.string(),
    }),
  ),
});

export interface MonitoringDeps {
  redis: RedisClient;
  prefix: string;
  db: Knex;
  tokens: Tokens;
  audit: AuditRepository;
  /** The last EOD run; null when none ran. */
  lastEodRun: () => Promise<EodRunState | null>;
  /** SSE streams this web process holds open. */
  sseConnections: () => number;
}

/** Answers within `ms` or says what did not. */
async function check(what: string, ms: number, probe: () => Promise<unknown>) {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
      }),
    ]);
    return { ok: true as const, latencyMs: Number((performance.now() - started).toFixed(2)) };
  } catch (error) {
    return { ok: false as const, error: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

/** Performance figures, comprehensive health, alerts and the audit trail, for a person or a dashboard. */
export function monitoringRouter(deps: MonitoringDeps): ApiRouter {
  const { redis, prefix, db, tokens } = deps;
  const api = new ApiRouter();

  api.get(
    '/system/performance/metrics',
    {
      summary: 'Performance figures over a window, merged from every process (quantiles of the union, never averaged)',
      role: 'read',
      query: windowQuerySchema,
      responses: { 200: { description: 'the figures', schema: performanceSchema }, 400: 'an unknown window' },
    },
    requireRole('read', tokens),
    async (req: Request, res: Response) => {
      const { window } = parseOrThrow(windowQuerySchema, req.query, 'query');
      const [figures, processes, redisNow] = await Promise.all([
        readWindow(redis, prefix, window),
        liveProcesses(redis, prefix),
        redisFigures(redis),
      ]);
      const body: z.infer<typeof performanceSchema> = {
        ...figures,
        processes: processes.map(({ instance, at, metrics }) => {
          const inUse = gaugeValue(metrics, 'tickforge_postgres_pool_in_use');
          const size = gaugeValue(metrics, 'tickforge_postgres_pool_size');
          return {
            ...processResources(instance, at, metrics),
            postgresPool: inUse === undefined || size === undefined ? null : { inUse, size },
          };
        }),
        redis: redisNow,
        sseConnections: deps.sseConnections(),
        uptimeSeconds: Math.round(process.uptime()),
      };
      res.json(body);
    },
  );

  api.get(
    '/system/health/comprehensive',
    {
      summary:
        'Every component (web, each worker, scheduler, PostgreSQL, Redis, kernel pools, the last EOD run) with its status, why, and since when',
      role: 'read',
      responses: { 200: { description: 'the components', schema: healthSchema } },
    },
    requireRole('read', tokens),
    async (_req: Request, res: Response) => {
      const now = Date.now();
      const [processes, postgres, redisCheck, eod, alerts] = await Promise.all([
        liveProcesses(redis, prefix),
        check('PostgreSQL', 2_000, () => db.raw('SELECT 1')),
        check('Redis', 2_000, () => redis.ping()),
        deps.lastEodRun().catch(() => undefined),
        activeAlerts(redis, prefix),
      ]);
      const components = await withSince(
        redis,
        prefix,
        assessHealth({ now, processes, postgres, redis: redisCheck, eod, alerts }),
        now,
      );
      const body: z.infer<typeof healthSchema> = {
        status: overallStatus(components),
        checkedAt: new Date(now).toISOString(),
        components,
        alerts,
      };
      res.json(body);
    },
  );

  api.get(
    '/system/alerts',
    {
      summary: 'Active alerts and the latest transitions (fired, resolved), newest first',
      role: 'read',
      responses: { 200: { description: 'the alerts', schema: alertsSchema } },
    },
    requireRole('read', tokens),
    async (_req: Request, res: Response) => {
      const [active, recent] = await Promise.all([activeAlerts(redis, prefix), recentTransitions(redis, prefix)]);
      const body: z.infer<typeof alertsSchema> = { active, recent };
      res.json(body);
    },
  );

  api.get(
    '/system/audit',
    {
      summary: 'The audit trail of mutating calls (enqueue, bulk, retry, redrive, cancel, Bull Board actions), newest first',
      role: 'read',
      query: auditQuerySchema,
      responses: { 200: { description: 'the entries', schema: auditSchema }, 400: 'a bad query parameter, named' },
    },
    requireRole('read', tokens),
    async (req: Request, res: Response) => {
      const query = parseOrThrow(auditQuerySchema, req.query, 'query');
      const entries = await deps.audit.list({
        action: query.action,
        since: query.since ? new Date(query.since) : undefined,
        limit: query.limit,
      });
      const body: z.infer<typeof auditSchema> = { entries };
      res.json(body);
    },
  );
  return api;
}
