import { expect } from 'chai';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import client from 'prom-client';
import type { Knex } from '../../src/shared/db.js';
import type { AlertTransition } from '../../src/metrics/alert-engine.js';
import { AlertMonitor } from '../../src/metrics/alert-monitor.js';
import type { AlertThresholds } from '../../src/metrics/alert-rules.js';
import { gatherSnapshot } from '../../src/metrics/gather.js';
import { PerformanceRecorder } from '../../src/metrics/performance.js';
import { MetricsPublisher } from '../../src/metrics/totals.js';
import { testConfig } from '../helpers/config.js';
import { dropSchemas, migratedDb } from '../helpers/db.js';
import { clearRedis } from '../helpers/redis.js';

const MINUTE = 60_000;

describe('alerts on live figures', () => {
  const config = testConfig();
  let db: Knex;
  let redis: Redis;
  let queues: Map<string, Queue>;

  before(async () => {
    db = await migratedDb(config);
    redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
    queues = new Map(['sync', 'ingest'].map((name) => [name, new Queue(name, { connection: redis, prefix: config.prefix })]));
  });

  after(async () => {
    await Promise.all([...queues.values()].map((queue) => queue.close()));
    await clearRedis(config);
    redis.disconnect();
    await dropSchemas(db, config);
  });

  /** Publishes a worker's PostgreSQL pool figures as its process snapshot. */
  async function publishPool(inUse: number) {
    const own = new client.Registry();
    new client.Gauge({ name: 'tickforge_postgres_pool_in_use', help: 'in use', registers: [own] }).set(inUse);
    new client.Gauge({ name: 'tickforge_postgres_pool_size', help: 'size', registers: [own] }).set(5);
    await new MetricsPublisher(redis, config.prefix, { totals: new client.Registry(), own }, 'worker:host:9').flush();
  }

  it('should fire every rule once on figures past low thresholds and resolve each once they recover', async () => {
    const thresholds: AlertThresholds = {
      eodMinutes: 30,
      queueWaitSeconds: 60,
      failureRatePercent: 10,
      failureRateMinJobs: 5,
      jobP99BudgetMs: 1_000,
      jobP99Budgets: {},
      postgresPoolSaturation: 1,
      redisMemoryBytes: 1,
    };
    const announced: AlertTransition[] = [];
    const monitor = new AlertMonitor({
      redis,
      prefix: config.prefix,
      instance: 'scheduler:host:1',
      intervalMs: 60_000,
      thresholds,
      gather: () => gatherSnapshot({ redis, prefix: config.prefix, db, queues, eodQueue: queues.get('sync')! }),
      announce: async (transition) => {
        announced.push(transition);
      },
      onError: (error) => {
        throw error;
      },
    });

    // An EOD run triggered 40 minutes ago that no worker picked up.
    await queues
      .get('sync')!
      .add('eod-pipeline', { date: '2025-03-03' }, { jobId: 'eod-2025-03-03', timestamp: Date.now() - 40 * MINUTE });
    const recorder = new PerformanceRecorder(redis, config.prefix, 'worker:host:9');
    recorder.time('job.duration', 'import-bars', 5_000);
    await recorder.flush();
    await db('job_history').insert(
      Array.from({ length: 6 }, (_, i) => ({
        queue: 'ingest',
        job_id: `failed-${i}`,
        name: 'import-bars',
        outcome: 'failed',
        attempts: 3,
        enqueued_at: new Date(),
        finished_at: new Date(),
      })),
    );
    await publishPool(5);

    const fired = await monitor.evaluate();
    expect(fired.map(({ state, alert }) => `${state} ${alert.id}`).sort()).to.deep.equal([
      'firing eod-late:2025-03-03',
      'firing failure-rate:ingest',
      'firing job-p99:import-bars',
      'firing no-worker:sync',
      'firing postgres-pool:worker:host:9',
      'firing queue-wait:sync',
      'firing redis-memory:redis',
    ]);
    expect(await monitor.evaluate()).to.deep.equal([]);

    // A worker runs the pipeline; the failures and the slow run leave their windows; the pool drains.
    const events = new QueueEvents('sync', { connection: { url: config.redisUrl }, prefix: config.prefix });
    await events.waitUntilReady();
    const worker = new Worker('sync', async () => 'done', { connection: { url: config.redisUrl }, prefix: config.prefix });
    try {
      const job = await queues.get('sync')!.getJob('eod-2025-03-03');
      await job!.waitUntilFinished(events, 20_000);
    } finally {
      await worker.close();
      await events.close();
    }
    await db('job_history').update({ finished_at: new Date(Date.now() - 20 * MINUTE) });
    const slots = await redis.keys(`${config.prefix}:perf:*`);
    await redis.del(...slots);
    await publishPool(1);
    thresholds.redisMemoryBytes = 2 ** 50;

    const resolved = await monitor.evaluate();
    expect(resolved.map(({ state, alert }) => `${state} ${alert.id}`).sort()).to.deep.equal([
      'resolved eod-late:2025-03-03',
      'resolved failure-rate:ingest',
      'resolved job-p99:import-bars',
      'resolved no-worker:sync',
      'resolved postgres-pool:worker:host:9',
      'resolved queue-wait:sync',
      'resolved redis-memory:redis',
    ]);
    expect(announced).to.have.length(14);
    expect(await monitor.evaluate()).to.deep.equal([]);
  });
});
