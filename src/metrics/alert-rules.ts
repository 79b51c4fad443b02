import { loadConfig, type Config } from '../shared/config.js';
import type { AlertRule, Condition, RuleResult } from './alert-engine.js';

/** The limits the alert rules hold the system to (settings `TICKFORGE_ALERT_*`). */
export interface AlertThresholds {
  /** The EOD pipeline must finish within this many minutes of its trigger. */
  eodMinutes: number;
  /** The oldest waiting job of a queue may wait this long. */
  queueWaitSeconds: number;
  /** Share of a queue's jobs that may fail over the last 15 minutes. */
  failureRatePercent: number;
  /** Fewer finished jobs than this over 15 minutes say nothing about a failure rate. */
  failureRateMinJobs: number;
  /** Budget for a job name's p99 duration over the last hour, unless `jobP99Budgets` names it. */
  jobP99BudgetMs: number;
  /** Per job name budgets that override `jobP99BudgetMs`. */
  jobP99Budgets: Readonly<Record<string, number>>;
  /** A PostgreSQL pool with this share of its connections in use (0–1) is saturated. */
  postgresPoolSaturation: number;
  /** Redis may use this much memory. */
  redisMemoryBytes: number;
}

/** The thresholds the settings `TICKFORGE_ALERT_*` give (docs/configuration.md). */
export function alertThresholds(config: Config): AlertThresholds {
  return {
    eodMinutes: config.alertEodMinutes,
    queueWaitSeconds: config.alertQueueWaitSeconds,
    failureRatePercent: config.alertFailureRatePercent,
    failureRateMinJobs: config.alertFailureRateMinJobs,
    jobP99BudgetMs: config.alertJobP99Ms,
    jobP99Budgets: Object.fromEntries(
      (config.alertJobP99Budgets ?? []).map((entry) => {
        const [name, ms] = entry.split('=');
        return [name, Number(ms)];
      }),
    ),
    postgresPoolSaturation: config.alertPostgresPoolPercent / 100,
    redisMemoryBytes: config.alertRedisMemoryMb * 1024 ** 2,
  };
}

/** The thresholds when no `TICKFORGE_ALERT_*` setting is given. */
export const DEFAULT_ALERT_THRESHOLDS: AlertThresholds = alertThresholds(loadConfig({}));

/** The latest EOD pipeline run: when it was triggered and, once it has, when it finished. */
export interface EodRunState {
  tradingDate: string;
  triggeredAt: number;
  finishedAt?: number;
}

export interface QueueState {
  queue: string;
  waiting: number;
  oldestWaitingSeconds: number;
  liveWorkers: number;
  /** Jobs that finished for good over the last 15 minutes, and how many of them failed. */
  finished15m: number;
  failed15m: number;
}

export interface JobDurationState {
  name: string;
  p99Ms: number;
  sampleCount: number;
}

export interface PoolState {
  /** The process owning the pool (its worker or process id). */
  process: string;
  inUse: number;
  size: number;
}

/**
 * What the rules look at, gathered by the evaluating process. A part left undefined could
 * not be read; its rules are not evaluated, so their alerts stay as they were.
 */
export interface MonitoringSnapshot {
  /** Epoch milliseconds of the evaluation. */
  at: number;
  /** The last EOD run; null when none ever ran. */
  eod?: EodRunState | null;
  queues?: QueueState[];
  jobDurations?: JobDurationState[];
  postgresPools?: PoolState[];
  redis?: { usedMemoryBytes: number };
}

const round = (value: number, digits = 1) => Number(value.toFixed(digits));
const mebibytes = (bytes: number) => round(bytes / 1024 ** 2);

function result(rule: AlertRule, firing: Array<Omit<Condition, 'rule'> | undefined>): RuleResult {
  return { rule, firing: firing.filter((condition) => condition !== undefined).map((condition) => ({ rule, ...condition })) };
}

function eodLate(eod: EodRunState | null, at: number, limits: AlertThresholds): RuleResult {
  const minutes = eod && eod.finishedAt === undefined ? (at - eod.triggeredAt) / 60_000 : 0;
  return result('eod-late', [
    eod && minutes > limits.eodMinutes
      ? {
          subject: eod.tradingDate,
          severity: 'critical',
          value: round(minutes),
          threshold: limits.eodMinutes,
          message: `the EOD pipeline for ${eod.tradingDate} has not finished ${round(minutes)} min after its trigger (limit ${limits.eodMinutes} min)`,
        }
      : undefined,
  ]);
}

function queueWait(queues: QueueState[], limits: AlertThresholds): RuleResult {
  return result(
    'queue-wait',
    queues.map((state) =>
      state.oldestWaitingSeconds > limits.queueWaitSeconds
        ? {
            subject: state.queue,
            severity: 'warning',
            value: round(state.oldestWaitingSeconds),
            threshold: limits.queueWaitSeconds,
            message: `the oldest job waiting in queue ${state.queue} has waited ${round(state.oldestWaitingSeconds)} s (limit ${limits.queueWaitSeconds} s)`,
          }
        : undefined,
    ),
  );
}

function failureRate(queues: QueueState[], limits: AlertThresholds): RuleResult {
  return result(
    'failure-rate',
    queues.map((state) => {
      const percent = state.finished15m > 0 ? (100 * state.failed15m) / state.finished15m : 0;
      if (state.finished15m < limits.failureRateMinJobs || percent <= limits.failureRatePercent) return undefined;
      return {
        subject: state.queue,
        severity: 'warning',
        value: round(percent),
        threshold: limits.failureRatePercent,
        message: `${state.failed15m} of ${state.finished15m} jobs of queue ${state.queue} failed over the last 15 min (${round(percent)} %, limit ${limits.failureRatePercent} %)`,
      };
    }),
  );
}

function jobP99(durations: JobDurationState[], limits: AlertThresholds): RuleResult {
  return result(
    'job-p99',
    durations.map((state) => {
      const budget = limits.jobP99Budgets[state.name] ?? limits.jobP99BudgetMs;
      if (state.sampleCount === 0 || state.p99Ms <= budget) return undefined;
      return {
        subject: state.name,
        severity: 'warning',
        value: round(state.p99Ms),
        threshold: budget,
        message: `job ${state.name} took ${round(state.p99Ms)} ms at p99 over the last hour (budget ${budget} ms, ${state.sampleCount} runs)`,
      };
    }),
  );
}

function postgresPool(pools: PoolState[], limits: AlertThresholds): RuleResult {
  return result(
    'postgres-pool',
    pools.map((pool) => {
      const share = pool.size > 0 ? pool.inUse / pool.size : 0;
      if (share < limits.postgresPoolSaturation) return undefined;
      return {
        subject: pool.process,
        severity: 'warning',
        value: round(share, 2),
        threshold: limits.postgresPoolSaturation,
        message: `the PostgreSQL pool of ${pool.process} has ${pool.inUse} of ${pool.size} connections in use (limit ${round(100 * limits.postgresPoolSaturation)} %)`,
      };
    }),
  );
}

function redisMemory(redis: { usedMemoryBytes: number }, limits: AlertThresholds): RuleResult {
  return result('redis-memory', [
    redis.usedMemoryBytes > limits.redisMemoryBytes
      ? {
          subject: 'redis',
          severity: 'warning',
          value: redis.usedMemoryBytes,
          threshold: limits.redisMemoryBytes,
          message: `Redis uses ${mebibytes(redis.usedMemoryBytes)} MiB (limit ${mebibytes(limits.redisMemoryBytes)} MiB)`,
        }
      : undefined,
  ]);
}

function noWorker(queues: QueueState[]): RuleResult {
  return result(
    'no-worker',
    queues.map((state) =>
      state.waiting > 0 && state.liveWorkers === 0
        ? {
            subject: state.queue,
            severity: 'critical',
            value: state.waiting,
            threshold: 0,
            message: `${state.waiting} jobs wait in queue ${state.queue} and no live worker serves it`,
          }
        : undefined,
    ),
  );
}

/** Evaluates every rule whose inputs the snapshot holds. */
export function evaluateRules(snapshot: MonitoringSnapshot, limits: AlertThresholds): RuleResult[] {
  const results: RuleResult[] = [];
  if (snapshot.eod !== undefined) results.push(eodLate(snapshot.eod, snapshot.at, limits));
  if (snapshot.queues)
    results.push(queueWait(snapshot.queues, limits), failureRate(snapshot.queues, limits), noWorker(snapshot.queues));
  if (snapshot.jobDurations) results.push(jobP99(snapshot.jobDurations, limits));
  if (snapshot.postgresPools) results.push(postgresPool(snapshot.postgresPools, limits));
  if (snapshot.redis) results.push(redisMemory(snapshot.redis, limits));
  return results;
}
