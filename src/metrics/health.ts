import type { RedisClient } from '../shared/redis.js';
import type client from 'prom-client';
import type { Alert, AlertRule } from './alert-engine.js';
import type { EodRunState } from './alert-rules.js';
import { gaugeValue } from './process.js';

export type HealthStatus = 'ok' | 'degraded' | 'down';

/** One part of the deployment and how it is doing. */
export interface ComponentHealth {
  /** Stable id: `web:host:pid`, `worker:host:pid`, `scheduler`, `postgres`, `redis`, `kernel-pool:worker:host:pid`, `eod`, `queues`. */
  id: string;
  kind: 'web' | 'worker' | 'scheduler' | 'postgres' | 'redis' | 'kernel-pool' | 'eod' | 'queues';
  status: HealthStatus;
  /** Why the status is not ok; absent when it is. */
  reason?: string;
  /** Since when the component has had this status (ISO-8601). */
  since: string;
  /** The queues a worker serves. */
  queues?: string[];
  details?: Record<string, unknown>;
}

type MetricJson = client.MetricObjectWithValues<client.MetricValue<string>>;

/** What the assessment looks at, read by the caller. */
export interface HealthInputs {
  now: number;
  /** Every live process's published snapshot. */
  processes: Array<{ instance: string; at: number; metrics: MetricJson[] }>;
  postgres: { ok: true; latencyMs: number } | { ok: false; error: string };
  redis: { ok: true; latencyMs: number } | { ok: false; error: string };
  /** The last EOD run (null: none ran yet; undefined: could not be read). */
  eod: EodRunState | null | undefined;
  alerts: Alert[];
}

const roleOf = (instance: string) => instance.split(':')[0];
const QUEUE_RULES: AlertRule[] = ['queue-wait', 'failure-rate', 'job-p99', 'no-worker'];

/** The reasons the active alerts of some rules (and subjects) give, joined. */
function alertReason(alerts: Alert[], rules: AlertRule[], subject?: string): string | undefined {
  const matching = alerts.filter((alert) => rules.includes(alert.rule) && (subject === undefined || alert.subject === subject));
  return matching.length > 0 ? matching.map((alert) => alert.message).join('; ') : undefined;
}

function component(
  id: string,
  kind: ComponentHealth['kind'],
  problem: { down?: string; degraded?: string },
  extra: Partial<ComponentHealth> = {},
): Omit<ComponentHealth, 'since'> {
  const status: HealthStatus = problem.down ? 'down' : problem.degraded ? 'degraded' : 'ok';
  const reason = problem.down ?? problem.degraded;
  return { id, kind, status, ...(reason ? { reason } : {}), ...extra };
}

/** Every component with its status and the reason for any status but ok. */
export function assessHealth(inputs: HealthInputs): Array<Omit<ComponentHealth, 'since'>> {
  const { processes, alerts } = inputs;
  const byRole = (role: string) => processes.filter((process) => roleOf(process.instance) === role);
  const components: Array<Omit<ComponentHealth, 'since'>> = [];

  for (const web of byRole('web')) {
    const lagMs = (gaugeValue(web.metrics, 'tickforge_nodejs_eventloop_lag_p99_seconds') ?? 0) * 1000;
    components.push(
      component(web.instance, 'web', { degraded: lagMs > 1000 ? `event-loop lag p99 ${Math.round(lagMs)} ms` : undefined }),
    );
  }

  const workers = byRole('worker');
  for (const worker of workers) {
    const queues = (worker.metrics.find((metric) => metric.name === 'tickforge_worker_queue')?.values ?? []).map((value) =>
      String(value.labels.queue),
    );
    components.push(
      component(
        worker.instance,
        'worker',
        { degraded: alertReason(alerts, ['postgres-pool'], worker.instance) },
        { queues: queues.sort() },
      ),
    );
    const threads = gaugeValue(worker.metrics, 'tickforge_pool_threads') ?? 0;
    const waiting = gaugeValue(worker.metrics, 'tickforge_pool_queue_size') ?? 0;
    const utilization = gaugeValue(worker.metrics, 'tickforge_pool_utilization') ?? 0;
    components.push(
      component(
        `kernel-pool:${worker.instance}`,
        'kernel-pool',
        {
          down: threads === 0 ? 'no kernel thread is running' : undefined,
          degraded: waiting > threads ? `${waiting} kernel tasks wait for ${threads} threads` : undefined,
        },
        { details: { threads, queuedTasks: waiting, utilization } },
      ),
    );
  }
  if (workers.length === 0) components.push(component('workers', 'worker', { down: 'no live worker process' }));

  const schedulers = byRole('scheduler');
  components.push(
    component(
      'scheduler',
      'scheduler',
      { down: schedulers.length === 0 ? 'no live scheduler process' : undefined },
      { details: { instances: schedulers.map((scheduler) => scheduler.instance) } },
    ),
  );

  const { postgres, redis } = inputs;
  components.push(
    component(
      'postgres',
      'postgres',
      { down: postgres.ok ? undefined : postgres.error, degraded: alertReason(alerts, ['postgres-pool']) },
      postgres.ok ? { details: { latencyMs: postgres.latencyMs } } : {},
    ),
  );
  components.push(
    component(
      'redis',
      'redis',
      { down: redis.ok ? undefined : redis.error, degraded: alertReason(alerts, ['redis-memory']) },
      redis.ok ? { details: { latencyMs: redis.latencyMs } } : {},
    ),
  );

  const { eod } = inputs;
  const eodDetails = eod
    ? {
        tradingDate: eod.tradingDate,
        triggeredAt: new Date(eod.triggeredAt).toISOString(),
        finishedAt: eod.finishedAt === undefined ? null : new Date(eod.finishedAt).toISOString(),
      }
    : { lastRun: null };
  components.push(
    component(
      'eod',
      'eod',
      { degraded: eod === undefined ? 'the last EOD run could not be read' : alertReason(alerts, ['eod-late']) },
      { details: eodDetails },
    ),
  );

  components.push(component('queues', 'queues', { degraded: alertReason(alerts, QUEUE_RULES) }));
  return components;
}

/** The overall status: the worst of the components. */
export function overallStatus(components: Array<Pick<ComponentHealth, 'status'>>): HealthStatus {
  if (components.some((c) => c.status === 'down')) return 'down';
  if (components.some((c) => c.status === 'degraded')) return 'degraded';
  return 'ok';
}

/**
 * Adds to each component since when it has had its status. The first reader to see a new
 * status records the instant in Redis, so every web process answers the same; components that
 * are gone (a stopped worker) are forgotten.
 */
export async function withSince(
  redis: RedisClient,
  prefix: string,
  components: Array<Omit<ComponentHealth, 'since'>>,
  now: number,
): Promise<ComponentHealth[]> {
  const key = `${prefix}:health:since`;
  const stored = await redis.hgetall(key);
  const at = new Date(now).toISOString();
  const transaction = redis.multi();
  const since = components.map((c) => {
    const previous = stored[c.id] ? (JSON.parse(stored[c.id]) as { status: HealthStatus; since: string }) : undefined;
    if (previous?.status === c.status) return previous.since;
    transaction.hset(key, c.id, JSON.stringify({ status: c.status, since: at }));
    return at;
  });
  const gone = Object.keys(stored).filter((id) => !components.some((c) => c.id === id));
  if (gone.length > 0) transaction.hdel(key, ...gone);
  await transaction.exec();
  return components.map((c, i) => ({ ...c, since: since[i] }));
}
