import { randomBytes } from 'node:crypto';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { WorkerRuntime } from '../workers/runtime.js';
import type { Config } from '../src/shared/config.js';
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
 * against a bare BullMQ Worker with an empty processor, both at the same concurrency and
 * alive throughout; their drains alternate so neither always runs on a warmer Redis.
 */
async function queueOverhead(config: Config): Promise<void> {
  const connection = { url: config.redisUrl };
  const rawName = `bench-raw-${randomBytes(4).toString('hex')}`;
  const rawQueue = new Queue(rawName, { connection, prefix: config.prefix });
  const rawWorker = new Worker(rawName, async () => ({ ok: true }), { connection, prefix: config.prefix, concurrency: CONCURRENCY });
  const runtime = await WorkerRuntime.start({
    config: { ...config, workerConcurrency: CONCURRENCY, queues: ['system'] },
    logger: createLogger('bench', 'silent'),
  });
  const redis = createRedis(config, 'producer');
  const producer = new Producer(redis, config.prefix);
  const ourQueue = producer.queue('system');
  const rawEvents = new QueueEvents(rawName, { connection, prefix: config.prefix });
  const ourEvents = new QueueEvents('system', { connection, prefix: config.prefix });
  try {
    await Promise.all([rawWorker.waitUntilReady(), rawEvents.waitUntilReady(), ourEvents.waitUntilReady()]);
    const samples = await interleaved(
      {
        tickforge: { run: () => drain(ourEvents, ourQueue, 'noop', { cpuMs: 0, waitMs: 0 }, QUEUE_JOBS) },
        raw: { run: () => drain(rawEvents, rawQueue, 'noop', {}, QUEUE_JOBS) },
      },
      benchRuns(3),
    );
    report({
      what: `no-op jobs through tickforge (registry, zod, job_history row, metrics; concurrency ${CONCURRENCY})`,
      ...rate(QUEUE_JOBS, samples.tickforge),
      unit: 'jobs/s',
      baseline: { what: 'raw BullMQ Worker with an empty processor', ...rate(QUEUE_JOBS, samples.raw) },
    });
  } finally {
    await Promise.all([rawEvents.close(), ourEvents.close()]);
    await rawWorker.close();
    await runtime.stop();
    await rawQueue.obliterate({ force: true });
    await rawQueue.close();
    await producer.close();
    await closeRedis(redis);
  }
}

export async function run(): Promise<void> {
  section('queue: overhead of the worker runtime against a bare BullMQ worker');
  await inBenchSchema((config) => queueOverhead(config));
}
