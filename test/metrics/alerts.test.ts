import { expect } from 'chai';
import { AlertEngine, type AlertTransition, type RuleResult } from '../../src/metrics/alert-engine.js';
import { ConfigError, loadConfig } from '../../src/shared/config.js';
import {
  alertThresholds,
  DEFAULT_ALERT_THRESHOLDS,
  evaluateRules,
  type AlertThresholds,
  type MonitoringSnapshot,
  type QueueState,
} from '../../src/metrics/alert-rules.js';

const T0 = Date.UTC(2025, 2, 3, 21, 30);
const MINUTE = 60_000;
const at = (minutes: number) => new Date(T0 + minutes * MINUTE);

const summary = (transitions: AlertTransition[]) => transitions.map(({ state, alert }) => `${state} ${alert.id}`);

const queueWait = (queue: string, seconds: number): RuleResult => ({
  rule: 'queue-wait',
  firing:
    seconds > 60
      ? [
          {
            rule: 'queue-wait',
            subject: queue,
            severity: 'warning',
            value: seconds,
            threshold: 60,
            message: `${queue} ${seconds}`,
          },
        ]
      : [],
});

const idleQueue = (queue: string, change: Partial<QueueState> = {}): QueueState => ({
  queue,
  waiting: 0,
  oldestWaitingSeconds: 0,
  liveWorkers: 1,
  finished15m: 0,
  failed15m: 0,
  ...change,
});

/** The ids of the conditions the rules find in a snapshot. */
function firing(snapshot: Partial<MonitoringSnapshot>, limits: Partial<AlertThresholds> = {}): string[] {
  return evaluateRules({ at: T0, ...snapshot }, { ...DEFAULT_ALERT_THRESHOLDS, ...limits }).flatMap((result) =>
    result.firing.map((condition) => `${condition.rule}:${condition.subject}`),
  );
}

describe('alert engine', () => {
  it('should fire once when a condition starts and resolve once when it ends', () => {
    const engine = new AlertEngine();
    expect(summary(engine.evaluate([queueWait('ingest', 10)], at(0)))).to.deep.equal([]);
    expect(summary(engine.evaluate([queueWait('ingest', 90)], at(1)))).to.deep.equal(['firing queue-wait:ingest']);
    expect(summary(engine.evaluate([queueWait('ingest', 150)], at(2)))).to.deep.equal([]);
    expect(summary(engine.evaluate([queueWait('ingest', 300)], at(3)))).to.deep.equal([]);
    const resolved = engine.evaluate([queueWait('ingest', 5)], at(4));
    expect(summary(resolved)).to.deep.equal(['resolved queue-wait:ingest']);
    expect(resolved[0].alert).to.deep.include({ since: at(1).toISOString(), resolvedAt: at(4).toISOString(), value: 300 });
    expect(summary(engine.evaluate([queueWait('ingest', 5)], at(5)))).to.deep.equal([]);
  });

  it('should keep the start time and follow the latest figure while an alert lasts', () => {
    const engine = new AlertEngine();
    engine.evaluate([queueWait('ingest', 90)], at(0));
    engine.evaluate([queueWait('ingest', 400)], at(3));
    expect(engine.active()).to.have.length(1);
    expect(engine.active()[0]).to.deep.include({ since: at(0).toISOString(), value: 400, message: 'ingest 400' });
  });

  it('should fire again as a new alert when a resolved condition comes back', () => {
    const engine = new AlertEngine();
    engine.evaluate([queueWait('ingest', 90)], at(0));
    engine.evaluate([queueWait('ingest', 1)], at(1));
    const again = engine.evaluate([queueWait('ingest', 90)], at(2));
    expect(summary(again)).to.deep.equal(['firing queue-wait:ingest']);
    expect(again[0].alert.since).to.equal(at(2).toISOString());
  });

  it('should track subjects apart when one rule finds several of them wrong', () => {
    const engine = new AlertEngine();
    const both: RuleResult = {
      rule: 'queue-wait',
      firing: [...queueWait('ingest', 90).firing, ...queueWait('cache', 90).firing],
    };
    expect(summary(engine.evaluate([both], at(0)))).to.deep.equal(['firing queue-wait:ingest', 'firing queue-wait:cache']);
    expect(summary(engine.evaluate([queueWait('cache', 90)], at(1)))).to.deep.equal(['resolved queue-wait:ingest']);
    expect(engine.active().map((alert) => alert.id)).to.deep.equal(['queue-wait:cache']);
  });

  it('should leave the alerts of a rule alone when the evaluation leaves that rule out', () => {
    const engine = new AlertEngine();
    engine.evaluate([queueWait('ingest', 90)], at(0));
    expect(summary(engine.evaluate([{ rule: 'redis-memory', firing: [] }], at(1)))).to.deep.equal([]);
    expect(engine.active().map((alert) => alert.id)).to.deep.equal(['queue-wait:ingest']);
  });

  it('should not fire again when a new evaluating process starts from the active alerts', () => {
    const first = new AlertEngine();
    first.evaluate([queueWait('ingest', 90)], at(0));
    const successor = new AlertEngine(first.active());
    expect(summary(successor.evaluate([queueWait('ingest', 120)], at(1)))).to.deep.equal([]);
    expect(summary(successor.evaluate([queueWait('ingest', 0)], at(2)))).to.deep.equal(['resolved queue-wait:ingest']);
  });
});

describe('alert rules', () => {
  it('should find the EOD run late only when unfinished past its window', () => {
    const eod = { tradingDate: '2025-03-03', triggeredAt: T0 - 31 * MINUTE };
    expect(firing({ eod })).to.deep.equal(['eod-late:2025-03-03']);
    expect(firing({ eod: { ...eod, triggeredAt: T0 - 29 * MINUTE } })).to.deep.equal([]);
    expect(firing({ eod: { ...eod, finishedAt: T0 - MINUTE } })).to.deep.equal([]);
    expect(firing({ eod }, { eodMinutes: 45 })).to.deep.equal([]);
    expect(firing({ eod: null })).to.deep.equal([]);
  });

  it('should find a queue whose oldest waiting job waited past the limit', () => {
    const queues = [idleQueue('ingest', { waiting: 3, oldestWaitingSeconds: 301 }), idleQueue('cache')];
    expect(firing({ queues })).to.deep.equal(['queue-wait:ingest']);
    expect(firing({ queues }, { queueWaitSeconds: 400 })).to.deep.equal([]);
  });

  it('should find a failure rate above the limit only over enough jobs', () => {
    expect(firing({ queues: [idleQueue('sync', { finished15m: 20, failed15m: 3 })] })).to.deep.equal(['failure-rate:sync']);
    expect(firing({ queues: [idleQueue('sync', { finished15m: 20, failed15m: 2 })] })).to.deep.equal([]);
    expect(firing({ queues: [idleQueue('sync', { finished15m: 4, failed15m: 4 })] })).to.deep.equal([]);
    expect(firing({ queues: [idleQueue('sync', { finished15m: 4, failed15m: 4 })] }, { failureRateMinJobs: 1 })).to.deep.equal([
      'failure-rate:sync',
    ]);
  });

  it("should hold each job name's p99 to its own budget when one is set", () => {
    const jobDurations = [
      { name: 'import-bars', p99Ms: 2_500, sampleCount: 40 },
      { name: 'warm-cache', p99Ms: 2_500, sampleCount: 40 },
    ];
    expect(firing({ jobDurations }, { jobP99BudgetMs: 3_000 })).to.deep.equal([]);
    expect(firing({ jobDurations }, { jobP99BudgetMs: 3_000, jobP99Budgets: { 'warm-cache': 1_000 } })).to.deep.equal([
      'job-p99:warm-cache',
    ]);
    expect(firing({ jobDurations }, { jobP99BudgetMs: 2_000 })).to.deep.equal(['job-p99:import-bars', 'job-p99:warm-cache']);
  });

  it('should find a PostgreSQL pool saturated when its share in use reaches the limit', () => {
    const postgresPools = [
      { process: 'worker-1', inUse: 10, size: 10 },
      { process: 'web-1', inUse: 7, size: 10 },
    ];
    expect(firing({ postgresPools })).to.deep.equal(['postgres-pool:worker-1']);
    expect(firing({ postgresPools }, { postgresPoolSaturation: 0.7 })).to.deep.equal([
      'postgres-pool:worker-1',
      'postgres-pool:web-1',
    ]);
  });

  it('should find Redis over its memory limit', () => {
    expect(firing({ redis: { usedMemoryBytes: 2 * 1024 ** 3 } })).to.deep.equal(['redis-memory:redis']);
    expect(firing({ redis: { usedMemoryBytes: 2 * 1024 ** 2 } })).to.deep.equal([]);
  });

  it('should find a queue with waiting jobs and no live worker', () => {
    const queues = [idleQueue('ingest', { waiting: 2, liveWorkers: 0 }), idleQueue('cache', { liveWorkers: 0 })];
    expect(firing({ queues })).to.deep.equal(['no-worker:ingest']);
  });

  it('should evaluate only the rules whose inputs were read', () => {
    const rules = evaluateRules({ at: T0, redis: { usedMemoryBytes: 1 } }, DEFAULT_ALERT_THRESHOLDS).map((result) => result.rule);
    expect(rules).to.deep.equal(['redis-memory']);
  });

  it('should say what is wrong, the figure and the limit in the message', () => {
    const [result] = evaluateRules(
      { at: T0, queues: [idleQueue('sync', { finished15m: 20, failed15m: 5 })] },
      DEFAULT_ALERT_THRESHOLDS,
    ).filter((r) => r.rule === 'failure-rate');
    expect(result.firing[0]).to.deep.include({ value: 25, threshold: 10, severity: 'warning' });
    expect(result.firing[0].message).to.equal('5 of 20 jobs of queue sync failed over the last 15 min (25 %, limit 10 %)');
  });

  it('should take every threshold from its TICKFORGE_ALERT_* setting', () => {
    expect(DEFAULT_ALERT_THRESHOLDS).to.deep.equal({
      eodMinutes: 30,
      queueWaitSeconds: 300,
      failureRatePercent: 10,
      failureRateMinJobs: 5,
      jobP99BudgetMs: 600_000,
      jobP99Budgets: {},
      postgresPoolSaturation: 1,
      redisMemoryBytes: 1024 ** 3,
    });
    const config = loadConfig({
      TICKFORGE_ALERT_EOD_MINUTES: '45',
      TICKFORGE_ALERT_QUEUE_WAIT_SECONDS: '1',
      TICKFORGE_ALERT_FAILURE_RATE_PERCENT: '50',
      TICKFORGE_ALERT_FAILURE_RATE_MIN_JOBS: '2',
      TICKFORGE_ALERT_JOB_P99_MS: '1000',
      TICKFORGE_ALERT_JOB_P99_BUDGETS: 'eod-pipeline=1200000,import-bars=60000',
      TICKFORGE_ALERT_POSTGRES_POOL_PERCENT: '80',
      TICKFORGE_ALERT_REDIS_MEMORY_MB: '1',
    });
    expect(alertThresholds(config)).to.deep.equal({
      eodMinutes: 45,
      queueWaitSeconds: 1,
      failureRatePercent: 50,
      failureRateMinJobs: 2,
      jobP99BudgetMs: 1000,
      jobP99Budgets: { 'eod-pipeline': 1_200_000, 'import-bars': 60_000 },
      postgresPoolSaturation: 0.8,
      redisMemoryBytes: 1024 ** 2,
    });
    expect(
      firing({ queues: [idleQueue('ingest', { waiting: 1, oldestWaitingSeconds: 2 })] }, alertThresholds(config)),
    ).to.include('queue-wait:ingest');
  });

  it('should refuse a per-job budget list it cannot read, naming the variable', () => {
    expect(() => loadConfig({ TICKFORGE_ALERT_JOB_P99_BUDGETS: 'import-bars:60s' }))
      .to.throw(ConfigError)
      .with.property('message')
      .that.includes('TICKFORGE_ALERT_JOB_P99_BUDGETS="import-bars:60s": must look like eod-pipeline=1200000,import-bars=60000');
  });
});
