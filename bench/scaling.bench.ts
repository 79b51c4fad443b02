import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { WorkerRuntime } from '../workers/runtime.js';
import { loadConfig, type Config } from '../src/shared/config.js';
import { createDb, dbSettings, ident, migrateLatest } from '../src/shared/db.js';
import { createLogger } from '../src/shared/logger.js';
import { Producer } from '../src/queues/producer.js';
import type { PayloadOf } from '../src/queues/registry.js';
import { closeRedis, createRedis, waitForRedis, type RedisClient } from '../src/shared/redis.js';
import { clearRedis } from '../test/helpers/redis.js';
import { report, section } from './report.js';

/** Jobs left waiting to weigh them in Redis. */
const WAITING_JOBS = 5_000;
/** Import jobs one worker process runs to measure its rate. */
const IMPORT_JOBS = 60;
/** Bars per import job: one regular session of 1-minute bars. */
const BARS_PER_JOB = 390;

async function usedMemory(redis: RedisClient): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)![1]);
}

/** One session of valid 1-minute bars as CSV, starting at 09:30 New York on 2018-02-07. */
function sessionCsv(base: number): string {
  const lines = ['ts,open,high,low,close,volume'];
  for (let i = 0; i < BARS_PER_JOB; i++) {
    const ts = new Date(Date.UTC(2018, 1, 7, 14, 30) + i * 60_000).toISOString();
    const price = base + (i % 50) / 100;
    lines.push(`${ts},${price},${price + 0.05},${price - 0.05},${price + 0.01},${100 + i}`);
  }
  return lines.join('\n');
}

/** Redis bytes per waiting job: enqueue without a worker and read used_memory before and after. */
async function memoryPerWaitingJob(producer: Producer, redis: RedisClient): Promise<void> {
  const payload = (symbol: string): PayloadOf<'aggregate-bars'> => ({ symbols: [symbol], targets: ['5m', '1h', '1d'] });
  const before = await usedMemory(redis);
  for (let i = 0; i < WAITING_JOBS; i += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, WAITING_JOBS - i) }, (_, j) => producer.enqueue('aggregate-bars', payload(`S${i + j}`))),
    );
  }
  const after = await usedMemory(redis);
  const payloadBytes = JSON.stringify(payload('S1000')).length;
  report({
    what: `Redis memory per waiting aggregate-bars job (${WAITING_JOBS} jobs, used_memory delta)`,
    value: (after - before) / WAITING_JOBS,
    unit: 'bytes',
    better: 'lower',
    baseline: { what: 'the JSON payload alone', value: payloadBytes },
  });
}

/** import-bars jobs/s and rows/s through one worker process (in this process, its configured concurrency). */
async function importRate(config: Config, producer: Producer): Promise<void> {
  const ids: string[] = [];
  for (let i = 0; i < IMPORT_JOBS; i++) {
    ids.push((await producer.enqueue('import-bars', { csv: sessionCsv(10 + i), symbol: `B${i}`, timeframe: '1m' })).id);
  }
  const started = performance.now();
  const runtime = await WorkerRuntime.start({
    config: { ...config, queues: ['ingest'] },
    logger: createLogger('bench', 'silent'),
  });
  const queue = producer.queue('ingest');
  for (;;) {
    const counts = await queue.getJobCounts('completed', 'failed');
    if ((counts.completed ?? 0) + (counts.failed ?? 0) >= IMPORT_JOBS) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const seconds = (performance.now() - started) / 1000;
  await runtime.stop();
  report({
    what: `import-bars through one worker process (concurrency ${config.workerConcurrency}, ${IMPORT_JOBS} jobs × ${BARS_PER_JOB} bars, start included)`,
    value: IMPORT_JOBS / seconds,
    unit: 'jobs/s',
  });
  report({ what: 'bars written by that worker process', value: (IMPORT_JOBS * BARS_PER_JOB) / seconds, unit: 'rows/s' });
}

export async function run(): Promise<void> {
  section(`scaling: figures for the capacity model (${os.availableParallelism()} cores)`);
  const base = loadConfig();
  const id = randomBytes(4).toString('hex');
  const config: Config = {
    ...base,
    dbSchema: `bench_${id}`,
    prefix: `bench-${id}`,
    eventStream: `bench-${id}:tickstock.events`,
    logLevel: 'silent',
  };
  await migrateLatest(dbSettings(config));
  const db = createDb(dbSettings(config));
  const redis = createRedis(config, 'producer');
  await waitForRedis(redis, 10_000);
  const producer = new Producer(redis, config.prefix);
  try {
    await memoryPerWaitingJob(producer, redis);
    await producer.queue('aggregate').obliterate({ force: true });
    await importRate(config, producer);
  } finally {
    await producer.close();
    await closeRedis(redis);
    await db.raw(`DROP SCHEMA ${ident(config.dbSchema)} CASCADE`);
    await db.destroy();
    await clearRedis(config);
  }
}
