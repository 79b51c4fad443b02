import type { RedisClient } from '../shared/redis.js';
import type { Queue } from 'bullmq';
import type { Knex } from 'knex';
import type { EodRunState, MonitoringSnapshot, QueueState } from './alert-rules.js';
import { readWindow } from './performance.js';
import { gaugeValue } from './process.js';
import { redisFigures } from './redis-info.js';
import { liveProcesses } from './totals.js';
import { liveWorkers } from '../queues/heartbeat.js';

export interface GatherDeps {
  redis: RedisClient;
  prefix: string;
  db: Knex;
  /** Every queue by name. */
  queues: ReadonlyMap<string, Queue>;
  /** The queue the EOD pipeline runs on. */
  eodQueue: Queue;
}

const EOD_JOB = 'eod-pipeline';

/**
 * The last EOD run: the newest `eod-pipeline` job BullMQ still holds (triggered when it was
 * added, finished when it completed; a failed run has not finished), or else the newest
 * completed one in job history. Null when none ever ran.
 */
export async function lastEodRun(deps: Pick<GatherDeps, 'db' | 'eodQueue'>): Promise<EodRunState | null> {
  const jobs = await deps.eodQueue.getJobs(
    ['active', 'waiting', 'waiting-children', 'delayed', 'prioritized', 'completed', 'failed'],
    0,
    20,
  );
  const latest = jobs.filter((job) => job?.name === EOD_JOB).sort((a, b) => b.timestamp - a.timestamp)[0];
  if (latest) {
    const finished = latest.finishedOn !== undefined && latest.failedReason === undefined;
    return {
      tradingDate: String((latest.data as { date?: unknown }).date),
      triggeredAt: latest.timestamp,
      ...(finished ? { finishedAt: latest.finishedOn } : {}),
    };
  }
  const row = await deps
    .db('job_history')
    .where({ name: EOD_JOB, outcome: 'completed' })
    .orderBy('finished_at', 'desc')
    .first<{ job_id: string; started_at: Date | null; finished_at: Date } | undefined>('job_id', 'started_at', 'finished_at');
  if (!row) return null;
  return {
    tradingDate: row.job_id.replace(/^eod-/, ''),
    triggeredAt: (row.started_at ?? row.finished_at).getTime(),
    finishedAt: row.finished_at.getTime(),
  };
}

async function queueStates(deps: GatherDeps, now: number): Promise<QueueState[]> {
  const failures = await deps
    .db('job_history')
    .where('finished_at', '>', new Date(now - 15 * 60_000))
    .select('queue', 'outcome')
    .count<Array<{ queue: string; outcome: string; count: number | string }>>({ count: '*' })
    .groupBy('queue', 'outcome');
  const workers = await liveWorkers(deps.redis, deps.prefix);
  return Promise.all(
    [...deps.queues].map(async ([name, queue]) => {
      const [counts, [oldest]] = await Promise.all([
        queue.getJobCounts('waiting', 'prioritized'),
        queue.getJobs(['waiting'], 0, 0, true),
      ]);
      const serving = workers.filter((worker) => worker.queues.includes(name)).length;
      const finished = failures.filter((row) => row.queue === name);
      return {
        queue: name,
        waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
        oldestWaitingSeconds: oldest ? Math.max(0, (now - oldest.timestamp) / 1000) : 0,
        liveWorkers: serving,
        finished15m: finished.reduce((sum, row) => sum + Number(row.count), 0),
        failed15m: finished.filter((row) => row.outcome === 'failed').reduce((sum, row) => sum + Number(row.count), 0),
      };
    }),
  );
}

/** Reads everything the alert rules look at; a part that cannot be read is left out (its rules wait). */
export async function gatherSnapshot(deps: GatherDeps, now = Date.now()): Promise<MonitoringSnapshot> {
  const [eod, queues, window, processes, redis] = await Promise.allSettled([
    lastEodRun(deps),
    queueStates(deps, now),
    readWindow(deps.redis, deps.prefix, '1h', now),
    liveProcesses(deps.redis, deps.prefix),
    redisFigures(deps.redis),
  ]);
  const value = <T>(result: PromiseSettledResult<T>) => (result.status === 'fulfilled' ? result.value : undefined);
  const durations = value(window)?.jobDuration;
  return {
    at: now,
    eod: value(eod),
    queues: value(queues),
    jobDurations:
      durations && Object.entries(durations).map(([name, stat]) => ({ name, p99Ms: stat.p99, sampleCount: stat.sampleCount })),
    postgresPools: value(processes)?.flatMap(({ instance, metrics }) => {
      const inUse = gaugeValue(metrics, 'tickforge_postgres_pool_in_use');
      const size = gaugeValue(metrics, 'tickforge_postgres_pool_size');
      return inUse === undefined || size === undefined ? [] : [{ process: instance, inUse, size }];
    }),
    redis: value(redis),
  };
}
