import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { QueueEvents } from 'bullmq';
import { WorkerRuntime } from '../workers/runtime.js';
import type { Config } from '../src/shared/config.js';
import { BAR_VALUE_COLUMNS, BarsRepository } from '../src/bars/bars.repository.js';
import { ident, type Knex } from '../src/shared/db.js';
import { BinaryCopyWriter } from '../src/bars/binary-copy.js';
import { BAR_COPY_COLUMNS, allocateBars, encodeCopyRows, type BarColumns } from '../src/bars/columns.js';
import { parseBarsCsv } from '../src/bars/csv.js';
import { copyInto } from '../src/shared/copy.js';
import { createLogger } from '../src/shared/logger.js';
import { Producer } from '../src/queues/producer.js';
import { closeRedis, createRedis } from '../src/shared/redis.js';
import { benchRuns, interleaved, rate, timed } from './measure.js';
import { inBenchSchema } from './bench-schema.js';
import { report, section } from './report.js';

export const name = 'foundation';

const IMPORT_ROWS = 200_000;

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

/** The knex baseline's rows: built from the columns inside the timed run, as COPY's encoding is. */
function knexRows(key: { symbol: string; timeframe: string; variant: string }, bars: BarColumns) {
  return Array.from(bars.ts, (ts, i) => ({
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
}

/** The same bars with every price moved by 1 %: stored first, so the timed upsert must update every row. */
function shifted(bars: BarColumns): BarColumns {
  const moved = allocateBars(bars.ts.length);
  moved.ts.set(bars.ts);
  for (const column of ['open', 'high', 'low', 'close', 'vwap'] as const)
    moved[column].set(bars[column].map((value) => value * 1.01));
  moved.volume.set(bars.volume);
  moved.tradeCount.set(bars.tradeCount);
  return moved;
}

/**
 * The bars upsert of 200,000 rows into an empty table and over stored rows whose values
 * changed, beside the knex upsert with the same conflict rule and beside PostgreSQL's own work
 * for the same rows, the limit: a binary COPY of a payload encoded beforehand into the empty
 * table, and a bare UPDATE … FROM a table already holding the new values over the stored rows.
 */
async function importThroughput(db: Knex, schema: string): Promise<void> {
  const bars = syntheticBars(IMPORT_ROWS);
  const older = shifted(bars);
  const key = { symbol: 'BENCH', timeframe: '1m' as const, variant: '' };
  const table = `${ident(schema)}.bars`;
  const incoming = `${ident(schema)}.bench_incoming`;
  const copy = (columns: BarColumns) => db.transaction((trx) => new BarsRepository(trx, schema).upsertBars(key, 'provider', columns));
  // The product's conflict rule on both sides: update only rows whose values differ, and never let a fill replace a real bar.
  const changed = BAR_VALUE_COLUMNS.map((column) => `bars.${column}`).join(', ');
  const excluded = BAR_VALUE_COLUMNS.map((column) => `excluded.${column}`).join(', ');
  const knexUpsert = () =>
    db.transaction(async (trx) => {
      const rows = knexRows(key, bars);
      for (let i = 0; i < rows.length; i += 1_000) {
        await trx(db.raw(table))
          .insert(rows.slice(i, i + 1_000))
          .onConflict(['symbol', 'timeframe', 'variant', 'ts'])
          .merge([...BAR_VALUE_COLUMNS])
          .whereRaw(`(${changed}) IS DISTINCT FROM (${excluded}) AND (excluded.source <> 'fill' OR bars.source = 'fill')`);
      }
    });
  const writer = new BinaryCopyWriter();
  writer.add(key, 'provider', bars);
  const payload = writer.finish();
  await db.raw(`CREATE TABLE ${incoming} (LIKE ${table})`);
  await db.transaction((trx) => copyInto(trx, incoming, BAR_COPY_COLUMNS, payload, 'binary'));
  const limits = {
    empty: () => db.transaction((trx) => copyInto(trx, table, BAR_COPY_COLUMNS, payload, 'binary')),
    stale: () =>
      db.raw(`UPDATE ${table} AS t SET ${BAR_VALUE_COLUMNS.map((column) => `${column} = s.${column}`).join(', ')}
              FROM ${incoming} AS s
              WHERE t.symbol = s.symbol AND t.timeframe = s.timeframe AND t.variant = s.variant AND t.ts = s.ts`),
  };
  const empty = () => db.raw(`TRUNCATE ${table}`);
  const stale = async () => {
    await empty();
    await copy(older);
  };

  for (const [round, prepare, limit] of [
    ['into an empty table', empty, { what: 'binary COPY of the same rows, encoded beforehand', run: limits.empty }],
    ['over stored rows with changed values', stale, { what: 'bare UPDATE … FROM a table holding the same rows', run: limits.stale }],
  ] as const) {
    const samples = await interleaved({
      copy: { prepare, run: () => copy(bars) },
      knex: { prepare, run: knexUpsert },
      limit: { prepare, run: limit.run },
    }, benchRuns(3));
    const what = `bars upsert ${round}, binary COPY: straight in when the range holds no bar, else staging + UPDATE … FROM and INSERT of new keys (${IMPORT_ROWS.toLocaleString('en-US')} rows, encoding included)`;
    report({
      what,
      ...rate(IMPORT_ROWS, samples.copy),
      unit: 'rows/s',
      baseline: {
        what: 'knex batched insert … onConflict().merge() with the same conflict rule, 1,000 rows a batch (row objects included)',
        ...rate(IMPORT_ROWS, samples.knex),
      },
    });
    report({
      what: `${what}, against the limit`,
      ...rate(IMPORT_ROWS, samples.copy),
      unit: 'rows/s',
      baseline: { what: `limit: PostgreSQL's own ${limit.what}`, ...rate(IMPORT_ROWS, samples.limit) },
    });
  }
  await empty();
  await db.raw(`DROP TABLE ${incoming}`);
}

/** The five-year S&P 500 daily file (619,040 rows, 505 symbols) in the sample data. */
const SP500_FILE = 'equity_daily/sp500_5yr_daily.csv.gz';

/**
 * import-bars of the S&P 500 file end to end through a worker (read, gunzip, parse and check in
 * the pool, binary COPY, staging merge, commit), into an empty table, against the limit: the
 * same accepted rows loaded by PostgreSQL's own COPY straight into the same table (prepared as
 * COPY text beforehand, so only PostgreSQL's work is timed).
 */
async function sp500Import(config: Config, db: Knex): Promise<void> {
  if (!config.dataDir || !existsSync(path.join(config.dataDir, SP500_FILE))) {
    process.stdout.write(`  import-bars of the S&P 500 file: skipped, ${SP500_FILE} is not in the sample data\n`);
    return;
  }
  const file = path.join(config.dataDir, SP500_FILE);
  const table = `${ident(config.dbSchema)}.bars`;
  const parsed = parseBarsCsv(gunzipSync(readFileSync(file)).toString('utf8'), { timeframe: '1d', timeZone: 'America/New_York' });
  const copyText = parsed.series.map((s) =>
    encodeCopyRows({ symbol: s.symbol, timeframe: '1d', variant: '' }, 'provider', s.bars),
  );
  await db.raw(`TRUNCATE ${table}`);
  const copySeconds = await timed(() => db.transaction((trx) => copyInto(trx, table, BAR_COPY_COLUMNS, copyText)));
  await db.raw(`TRUNCATE ${table}`);

  const runtime = await WorkerRuntime.start({
    config: { ...config, queues: ['ingest'] },
    logger: createLogger('bench', 'silent'),
  });
  const redis = createRedis(config, 'producer');
  const producer = new Producer(redis, config.prefix);
  const events = new QueueEvents('ingest', { connection: { url: config.redisUrl }, prefix: config.prefix });
  await events.waitUntilReady();
  try {
    const started = performance.now();
    const enqueued = await producer.enqueue('import-bars', { file, timeframe: '1d' });
    const job = await producer.queue('ingest').getJob(enqueued.id);
    const result = (await job!.waitUntilFinished(events, 600_000)) as { written: number };
    const importSeconds = (performance.now() - started) / 1000;
    if (result.written !== parsed.accepted)
      throw new Error(`import-bars wrote ${result.written} rows, expected ${parsed.accepted}`);
    report({
      what: `import-bars of the S&P 500 daily file (${parsed.accepted.toLocaleString('en-US')} rows, empty table, end to end)`,
      value: importSeconds,
      unit: 's',
      better: 'lower',
      baseline: { what: "limit: PostgreSQL's own COPY of the same rows into the same table", value: copySeconds },
    });
  } finally {
    await events.close();
    await runtime.stop();
    await producer.queue('ingest').obliterate({ force: true });
    await producer.close();
    await closeRedis(redis);
    await db.raw(`TRUNCATE ${table}`);
  }
}

export async function run(): Promise<void> {
  section('foundation: import write path, import-bars against COPY');
  await inBenchSchema(async (config, db) => {
    await importThroughput(db, config.dbSchema);
    await sp500Import(config, db);
  });
}
