import { randomBytes } from 'node:crypto';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { WorkerRuntime } from '../workers/runtime.js';
import { loadConfig, type Config } from '../src/shared/config.js';
import { BarsRepository } from '../src/bars/bars.repository.js';
import { createDb, dbSettings, ident, migrateLatest, type Knex } from '../src/shared/db.js';
import { allocateBars, encodeCopyRows, type BarColumns } from '../src/bars/columns.js';
import { createLogger } from '../src/shared/logger.js';
import { Producer } from '../src/queues/producer.js';
import { closeRedis, createRedis } from '../src/shared/redis.js';
import { clearRedis } from '../test/helpers/redis.js';
import { report, section } from './report.js';

export const name = 'foundation';

const IMPORT_ROWS = 200_000;
const QUEUE_JOBS = 5_000;
const CONCURRENCY = 16;

/** A deterministic random walk of 1-minute bars. */
function syntheticBars(rows: number): BarColumns {
  const bars = allocateBars(rows);
  let price = 100;
  let seed = 42;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const start = Date.parse('2020-01-02T14:30:00Z');
  for (let i = 0; i < rows; i++) {
    const open = price;
    price = Math.max(1, price * (1 + (random() - 0.5) * 0.002));
    bars.ts[i] = start + i * 60_000;
    bars.open[i] = open;
    bars.close[i] = price;
    bars.high[i] = Math.max(open, price) * (1 + random() * 0.0005);
    bars.low[i] = Math.min(open, price) * (1 - random() * 0.0005);
    bars.volume[i] = Math.floor(random() * 10_000);
    bars.vwap[i] = (bars.high[i] + bars.low[i] + price) / 3;
    bars.tradeCount[i] = NaN;
  }
  return bars;
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return (performance.now() - started) / 1000;
}

async function importThroughput(db: Knex, schema: string): Promise<void> {
  const bars = syntheticBars(IMPORT_ROWS);
  const key = { symbol: 'BENCH', timeframe: '1m' as const, variant: '' };
  const truncate = () => db.raw(`TRUNCATE ${ident(schema)}.bars`);

  await truncate();
  const copySeconds = await timed(() =>
    db.transaction((trx) => new BarsRepository(trx, schema).upsertCopy(encodeCopyRows(key, 'provider', bars))),
  );

  await truncate();
  const rows = Array.from(bars.ts, (ts, i) => ({
    symbol: key.symbol,
    timeframe: key.timeframe,
    variant: key.variant,
    ts: new Date(ts),
    open: bars.open[i],
    high: bars.high[i],
    low: bars.low[i],
    close: bars.close[i],
    volume: bars.volume[i],
    vwap: bars.vwap[i],
    trade_count: null,
    source: 'provider',
  }));
  const knexSeconds = await timed(() =>
    db.transaction(async (trx) => {
      for (let i = 0; i < rows.length; i += 1_000) {
        await trx(db.raw(`${ident(schema)}.bars`))
          .insert(rows.slice(i, i + 1_000))
          .onConflict(['symbol', 'timeframe', 'variant', 'ts'])
          .merge();
      }
    }),
  );
  await truncate();

  report({
    what: `bars upsert, COPY + staging + INSERT … ON CONFLICT (${IMPORT_ROWS.toLocaleString('en-US')} rows)`,
    value: IMPORT_ROWS / copySeconds,
    unit: 'rows/s',
    baseline: { what: 'knex batched insert … onConflict().merge(), 1,000 rows a batch', value: IMPORT_ROWS / knexSeconds },
  });
}

/** Adds `count` jobs in bulk and returns the seconds until the last one completed. */
async function drain(redisUrl: string, queue: Queue, jobName: string, data: object, count: number): Promise<number> {
  const events = new QueueEvents(queue.name, { connection: { url: redisUrl }, prefix: queue.opts.prefix });
  await events.waitUntilReady();
  let completed = 0;
  const done = new Promise<void>((resolve) => {
    events.on('completed', () => {
      if (++completed === count) resolve();
    });
  });
  const started = performance.now();
  for (let i = 0; i < count; i += 1_000) {
    const batch = Array.from({ length: Math.min(1_000, count - i) }, () => ({
      name: jobName,
      data,
      opts: { removeOnComplete: true },
    }));
    await queue.addBulk(batch);
  }
  await done;
  const seconds = (performance.now() - started) / 1000;
  await events.close();
  return seconds;
}

async function queueThroughput(config: Config): Promise<void> {
  const connection = { url: config.redisUrl };
  const rawName = `bench-raw-${randomBytes(4).toString('hex')}`;
  const rawQueue = new Queue(rawName, { connection, prefix: config.prefix });
  const rawWorker = new Worker(rawName, async () => ({ ok: true }), {
    connection,
    prefix: config.prefix,
    concurrency: CONCURRENCY,
  });
  await rawWorker.waitUntilReady();
  const rawSeconds = await drain(config.redisUrl, rawQueue, 'noop', {}, QUEUE_JOBS);
  await rawWorker.close();
  await rawQueue.obliterate({ force: true });
  await rawQueue.close();

  const runtime = await WorkerRuntime.start({
    config: { ...config, workerConcurrency: CONCURRENCY, queues: ['system'] },
    logger: createLogger('bench', 'silent'),
  });
  const redis = createRedis(config, 'producer');
  const producer = new Producer(redis, config.prefix);
  const ourSeconds = await drain(config.redisUrl, producer.queue('system'), 'noop', { cpuMs: 0, waitMs: 0 }, QUEUE_JOBS);
  await runtime.stop();
  await producer.queue('system').obliterate({ force: true });
  await producer.close();
  await closeRedis(redis);

  report({
    what: `no-op jobs through tickforge (registry, zod, job_history row, metrics; concurrency ${CONCURRENCY})`,
    value: QUEUE_JOBS / ourSeconds,
    unit: 'jobs/s',
    baseline: { what: `raw BullMQ Worker with an empty processor`, value: QUEUE_JOBS / rawSeconds },
  });
}

export async function run(): Promise<void> {
  section('foundation: import write path and queue overhead');
  const base = loadConfig();
  const id = randomBytes(4).toString('hex');
  const config: Config = { ...base, dbSchema: `bench_${id}`, prefix: `bench-${id}`, logLevel: 'silent' };
  await migrateLatest(dbSettings(config));
  const db = createDb(dbSettings(config));
  try {
    await importThroughput(db, config.dbSchema);
    await queueThroughput(config);
  } finally {
    await db.raw(`DROP SCHEMA ${ident(config.dbSchema)} CASCADE`);
    await db.destroy();
    await clearRedis(config);
  }
}
