import { randomBytes } from 'node:crypto';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { WorkerRuntime } from '../workers/runtime.js';
import type { Config } from '../src/shared/config.js';
import { ident, type Knex } from '../src/shared/db.js';
import { createLogger } from '../src/shared/logger.js';
import { Producer } from '../src/queues/producer.js';
import { closeRedis, createRedis } from '../src/shared/redis.js';
import { benchRuns, interleaved, rate } from './measure.js';
import { inBenchSchema } from './bench-schema.js';
import { report, section } from './report.js';

export const name = 'queue';

const QUEUE_JOBS = 5_000;
const CONCURRENCY = 16;

/** Adds `count` jobs in bulk and resolves when the last one completed. */
async function drain(events: QueueEvents, queue: Queue, jobName: string, data: object, count: number): Promise<void> {
  let completed = 0;
  let onCompleted: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    onCompleted = () => {
      if (++completed === count) resolve();
    };
  });
  events.on('completed', onCompleted);
  try {
    for (let i = 0; i < count; i += 1_000) {
      const batch = Array.from({ length: Math.min(1_000, count - i) }, () => ({
        name: jobName,
        data,
        opts: { removeOnComplete: true },
      }));
      await queue.addBulk(batch);
    }
    await done;
  } finally {
    events.off('completed', onCompleted);
  }
}

/**
 * No-op jobs through a tickforge worker (registry, zod, job_history row, metrics, logging)
 * against a bare BullMQ Worker with an empty processor, and against a bare BullMQ Worker whose
 * processor commits one PostgreSQL row per job before it completes (what a durable record of
 * each job costs without tickforge's group commit), all at the same concurrency and alive
 * throughout; their drains alternate so none always runs on a warmer Redis.
 */
async function queueOverhead(config: Config, db: Knex): Promise<void> {
  const connection = { url: config.redisUrl };
  const rawName = `bench-raw-${randomBytes(4).toString('hex')}`;
  const rawQueue = new Queue(rawName, { connection, prefix: config.prefix });
  const rawWorker = new Worker(rawName, async () => ({ ok: true }), {
    connection,
    prefix: config.prefix,
    concurrency: CONCURRENCY,
  });
  const committedTable = `${ident(config.dbSchema)}.bench_committed`;
  await db.raw(`CREATE TABLE ${committedTable} (queue text, job_id text, PRIMARY KEY (queue, job_id))`);
  const committedName = `bench-committed-${randomBytes(4).toString('hex')}`;
  const committedQueue = new Queue(committedName, { connection, prefix: config.prefix });
  const committedWorker = new Worker(
    committedName,
    async (job) => {
      await db.raw(`INSERT INTO ${committedTable} VALUES (?, ?)`, [committedName, job.id!]);
      return { ok: true };
    },
    { connection, prefix: config.prefix, concurrency: CONCURRENCY },
  );
  const runtime = await WorkerRuntime.start({
    config: { ...config, workerConcurrency: CONCURRENCY, queues: ['system'] },
    logger: createLogger('bench', 'silent'),
  });
  const redis = createRedis(config, 'producer');
  const producer = new Producer(redis, config.prefix);
  const ourQueue = producer.queue('system');
  const rawEvents = new QueueEvents(rawName, { connection, prefix: config.prefix });
  const ourEvents = new QueueEvents('system', { connection, prefix: config.prefix });
  const committedEvents = new QueueEvents(committedName, { connection, prefix: config.prefix });
  try {
    await Promise.all(
      [rawWorker, committedWorker, rawEvents, ourEvents, committedEvents].map((client) => client.waitUntilReady()),
    );
    const samples = await interleaved(
      {
        tickforge: { run: () => drain(ourEvents, ourQueue, 'noop', { cpuMs: 0, waitMs: 0 }, QUEUE_JOBS) },
        raw: { run: () => drain(rawEvents, rawQueue, 'noop', {}, QUEUE_JOBS) },
        committed: { run: () => drain(committedEvents, committedQueue, 'noop', {}, QUEUE_JOBS) },
      },
      benchRuns(3),
    );
    const what = `no-op jobs through tickforge (registry, zod, job_history row, metrics; concurrency ${CONCURRENCY})`;
    report({
      what,
      ...rate(QUEUE_JOBS, samples.tickforge),
      unit: 'jobs/s',
      baseline: { what: 'raw BullMQ Worker with an empty processor', ...rate(QUEUE_JOBS, samples.raw) },
    });
    report({
      what: `${what}, against a durable record per job`,
      ...rate(QUEUE_JOBS, samples.tickforge),
      unit: 'jobs/s',
      baseline: {
        what: 'raw BullMQ Worker committing one PostgreSQL row per job before it completes',
        ...rate(QUEUE_JOBS, samples.committed),
      },
    });
  } finally {
    await Promise.all([rawEvents.close(), ourEvents.close(), committedEvents.close()]);
    await Promise.all([rawWorker.close(), committedWorker.close()]);
    await runtime.stop();
    for (const queue of [rawQueue, committedQueue]) {
      await queue.obliterate({ force: true });
      await queue.close();
    }
    await producer.close();
    await closeRedis(redis);
  }
}

export async function run(): Promise<void> {
  section('queue: overhead of the worker runtime against a bare BullMQ worker');
  await inBenchSchema((config, db) => queueOverhead(config, db));
}
