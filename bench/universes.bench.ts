import { randomBytes } from 'node:crypto';
import { QueueEvents } from 'bullmq';
import { WorkerRuntime } from '../workers/runtime.js';
import { loadConfig, type Config } from '../src/shared/config.js';
import { copyInto } from '../src/shared/copy.js';
import { createDb, dbSettings, ident, migrateLatest, type Knex } from '../src/shared/db.js';
import { SymbolsRepository } from '../src/universes/symbols.repository.js';
import { BAR_COPY_COLUMNS, allocateBars, encodeCopyRows } from '../src/bars/columns.js';
import { NYSE } from '../src/shared/calendar.js';
import type { SymbolRecord } from '../src/universes/symbol-rows.js';
import { DEFAULT_ETF_THEMES, EXCHANGE_TIME_ZONE } from '../src/universes/universes.js';
import { localMidnight } from '../src/shared/zone.js';
import { createLogger } from '../src/shared/logger.js';
import { channelName } from '../src/notify/channels.js';
import { Publisher } from '../src/notify/publisher.js';
import { Producer } from '../src/queues/producer.js';
import { closeRedis, createRedis, type RedisClient } from '../src/shared/redis.js';
import { duration, interleaved, summarize } from './measure.js';
import { quantile, report, section } from './report.js';
import { UniversesRepository } from '../src/universes/universes.repository.js';
import { PERFORMANCE_HISTORY, shiftDate, universePerformance } from '../src/universes/performance.js';
import { uniformStream } from '../src/scenarios/random.js';

export const name = 'universes';

const STOCKS = 5_000;
const ETFS = 300;
const SECTORS = [
  'Energy',
  'Materials',
  'Industrials',
  'Consumer Discretionary',
  'Consumer Staples',
  'Health Care',
  'Financials',
  'Information Technology',
  'Communication Services',
  'Utilities',
  'Real Estate',
];
const FIRST = '2017-02-08';
const INITIAL = '2018-02-06';
const DAILY = '2018-02-07';
// Each flow is a whole daily sync of 5,300 symbols (the longest part of this benchmark): 15 give a median and a slowest.
const LATENCY_RUNS = 15;
const PUBLISH_SAMPLES = 1_000;


/** 5,000 stocks in 11 sectors (a few recent IPOs, a few delisted on DAILY) and 300 ETFs over the 7 themes. */
function syntheticSymbols(random: () => number): SymbolRecord[] {
  const records: SymbolRecord[] = [];
  for (let i = 0; i < STOCKS; i++) {
    const record: SymbolRecord = {
      symbol: `S${String(i).padStart(4, '0')}`,
      kind: 'stock',
      sector: SECTORS[i % SECTORS.length],
      shares_outstanding: Math.round(Math.exp(16 + random() * 6)),
    };
    if (i % 250 === 7) record.ipo_date = '2018-01-15';
    if (i % 250 === 11) Object.assign(record, { status: 'delisted', delisted_at: DAILY });
    records.push(record);
  }
  for (let i = 0; i < ETFS; i++) {
    const theme = DEFAULT_ETF_THEMES[i % DEFAULT_ETF_THEMES.length].theme;
    const record: SymbolRecord = { symbol: `E${String(i).padStart(3, '0')}`, kind: 'etf', theme };
    if (i % 10 !== 0) record.aum = Math.exp(18 + random() * 8);
    if (i % 15 !== 0) record.expense_ratio = random() * 0.01;
    records.push(record);
  }
  return records;
}

/** A year of daily bars for every symbol: a seeded random walk, streamed to COPY symbol by symbol. */
function* syntheticBars(symbols: string[], random: () => number): Generator<string> {
  const sessions = NYSE.sessionsBetween(FIRST, DAILY).map((session) => localMidnight(session.date, EXCHANGE_TIME_ZONE));
  for (const symbol of symbols) {
    const bars = allocateBars(sessions.length);
    let price = 5 + random() * 200;
    for (let i = 0; i < sessions.length; i++) {
      const open = price;
      price = Math.max(1, price * (1 + (random() - 0.5) * 0.04));
      bars.ts[i] = sessions[i];
      bars.open[i] = open;
      bars.close[i] = price;
      bars.high[i] = Math.max(open, price) * 1.005;
      bars.low[i] = Math.min(open, price) * 0.995;
      bars.volume[i] = Math.round(Math.exp(11 + random() * 4));
      bars.vwap[i] = NaN;
      bars.tradeCount[i] = NaN;
    }
    yield encodeCopyRows({ symbol, timeframe: '1d', variant: '' }, 'provider', bars);
  }
}

async function seed(db: Knex, schema: string): Promise<number> {
  const random = uniformStream(20180207, 'universes bench');
  const records = syntheticSymbols(random);
  await db.transaction((trx) => new SymbolsRepository(trx, schema).upsert(records));
  await db.transaction((trx) =>
    copyInto(
      trx,
      'bars',
      BAR_COPY_COLUMNS,
      syntheticBars(
        records.map((r) => r.symbol),
        random,
      ),
    ),
  );
  await db.raw('ANALYZE');
  const [{ count }] = await db('bars').count<Array<{ count: number }>>({ count: '*' });
  return count;
}

/** Row-by-row market caps: the shape of the system this replaces (a round trip per symbol per step). */
async function perSymbolMarketCaps(db: Knex, date: string): Promise<void> {
  const dayEnd = new Date(localMidnight(NYSE.nextSession(date).date, EXCHANGE_TIME_ZONE));
  const trx = await db.transaction();
  try {
    const stocks = await trx('symbols').select('symbol', 'shares_outstanding').where({ kind: 'stock' });
    for (const stock of stocks) {
      const last = await trx('bars')
        .select('close')
        .where({ symbol: stock.symbol, timeframe: '1d', variant: '' })
        .andWhere('ts', '<', dayEnd)
        .orderBy('ts', 'desc')
        .first();
      if (last)
        await trx('symbols')
          .where({ symbol: stock.symbol })
          .update({ market_cap: stock.shares_outstanding * last.close });
    }
  } finally {
    // Measured only: the real sync keeps the figures.
    await trx.rollback();
  }
}

/** The same market-cap step as one set-based UPDATE from each stock's last close: the SQL floor. */
async function setBasedMarketCaps(db: Knex, date: string): Promise<void> {
  const dayEnd = new Date(localMidnight(NYSE.nextSession(date).date, EXCHANGE_TIME_ZONE));
  const trx = await db.transaction();
  try {
    await trx.raw(
      `UPDATE symbols s SET market_cap = s.shares_outstanding * c.close
       FROM (SELECT DISTINCT ON (symbol) symbol, close FROM bars
             WHERE timeframe = '1d' AND variant = '' AND ts < ? ORDER BY symbol, ts DESC) c
       WHERE s.symbol = c.symbol AND s.kind = 'stock'`,
      [dayEnd],
    );
  } finally {
    await trx.rollback();
  }
}

async function runSync(producer: Producer, events: QueueEvents, date: string) {
  const started = performance.now();
  const enqueued = await producer.enqueue('eod-sync', { date });
  const job = await producer.queue('sync').getJob(enqueued.id);
  const summary = (await job!.waitUntilFinished(events, 120_000)) as { changes: number; run_id: string };
  return { id: enqueued.id, seconds: (performance.now() - started) / 1000, summary };
}

async function syncFigures(config: Config, db: Knex): Promise<void> {
  const runtime = await WorkerRuntime.start({ config: { ...config, queues: ['sync'] }, logger: createLogger('bench', 'silent') });
  const redis = createRedis(config, 'producer');
  const producer = new Producer(redis, config.prefix);
  const events = new QueueEvents('sync', { connection: { url: config.redisUrl }, prefix: config.prefix });
  await events.waitUntilReady();
  const subscriber = createRedis(config, 'subscriber');
  try {
    const initial = await runSync(producer, events, INITIAL);
    report({
      what: `initial build of every universe (${initial.summary.changes.toLocaleString('en-US')} changes), five-task flow end to end`,
      value: initial.seconds,
      unit: 's',
      better: 'lower',
    });
    const daily = await runSync(producer, events, DAILY);
    report({
      what: `daily sync ${DAILY}, ${STOCKS.toLocaleString('en-US')} stocks + ${ETFS} ETFs, a year of closes (${daily.summary.changes.toLocaleString('en-US')} changes), five-task flow end to end`,
      value: daily.seconds,
      unit: 's',
      better: 'lower',
    });
    const marketCaps = await interleaved(
      { setBased: { run: () => setBasedMarketCaps(db, DAILY) }, perStock: { run: () => perSymbolMarketCaps(db, DAILY) } },
      3,
    );
    report({
      what: `market-cap step alone as one set-based UPDATE … FROM (SELECT DISTINCT ON …), ${STOCKS.toLocaleString('en-US')} stocks`,
      ...duration(marketCaps.setBased),
      unit: 's',
      better: 'lower',
      baseline: { what: 'one round trip per stock', ...duration(marketCaps.perStock) },
    });
    const again = await runSync(producer, events, DAILY);
    report({ what: `same date again (${again.summary.changes} changes)`, value: again.seconds, unit: 's', better: 'lower' });

    // Commit → subscriber: the last task's commit (its job's finishedOn) to the arrival of sync_complete.
    const arrivals = new Map<string, number>();
    const waiters = new Map<string, (at: number) => void>();
    subscriber.on('message', (_channel: string, message: string) => {
      const at = Date.now();
      const id = (JSON.parse(message) as { correlation_id: string }).correlation_id;
      const waiter = waiters.get(id);
      if (waiter) waiter(at);
      else arrivals.set(id, at);
    });
    const arrivalOf = (id: string) =>
      arrivals.has(id) ? Promise.resolve(arrivals.get(id)!) : new Promise<number>((resolve) => waiters.set(id, resolve));
    await subscriber.subscribe(channelName('cacheSyncComplete', config.prefix));
    const latencies: number[] = [];
    for (let i = 0; i < LATENCY_RUNS; i++) {
      const run = await runSync(producer, events, DAILY);
      const parent = await producer.queue('sync').getJob(run.id);
      const { processed } = await parent!.getDependencies();
      const children = await Promise.all(
        Object.keys(processed ?? {}).map((key) => producer.queue('sync').getJob(key.slice(key.lastIndexOf(':') + 1))),
      );
      const lastCommit = Math.max(...children.map((child) => child!.finishedOn!));
      latencies.push((await arrivalOf(run.id)) - lastCommit);
    }
    // Fifteen flows cannot give a p99: report the median and the slowest, named as what they are.
    report({
      what: `last task commit → sync_complete at a subscriber, median of ${LATENCY_RUNS} flows`,
      ...duration(summarize(latencies)),
      unit: 'ms',
      better: 'lower',
    });
    report({
      what: `last task commit → sync_complete at a subscriber, slowest of ${LATENCY_RUNS} flows`,
      value: Math.max(...latencies),
      runs: LATENCY_RUNS,
      unit: 'ms',
      better: 'lower',
    });
  } finally {
    await closeRedis(subscriber);
    await events.close();
    await producer.close();
    await closeRedis(redis);
    await runtime.stop();
  }
}

/** The report's ceiling for a universe query. */
const QUERY_LIMIT_SECONDS = 2;

/**
 * The universe queries on the largest universe: its members as of the date, and its
 * performance (members, 13 months of their daily bars, the figures), against a bare read of the
 * same bar rows, the floor any such query stands on.
 */
async function universeQueries(config: Config, db: Knex): Promise<void> {
  const universes = new UniversesRepository(db, config.dbSchema);
  const largest = (await universes.list()).reduce((best, universe) => (universe.members > best.members ? universe : best));
  const from = new Date(localMidnight(shiftDate(DAILY, PERFORMANCE_HISTORY), EXCHANGE_TIME_ZONE));
  const to = new Date(localMidnight(shiftDate(DAILY, { days: 1 }), EXCHANGE_TIME_ZONE));
  const symbols = (await universes.members(largest.key, DAILY)).map((member) => member.symbol);
  let rows = 0;
  const measured = await interleaved({
    members: { run: () => universes.members(largest.key, DAILY) },
    performance: {
      run: async () => {
        const current = (await universes.members(largest.key, DAILY)).map((member) => member.symbol);
        const bars = await universes.dailyCloses(current, from, to);
        rows = bars.length;
        universePerformance(current, bars, DAILY);
      },
    },
    bare: {
      run: () =>
        db.raw(
          `SELECT symbol, ts, close, volume FROM ${ident(config.dbSchema)}.bars WHERE symbol = ANY(?) AND timeframe = '1d' AND ts >= ? AND ts < ?`,
          [symbols, from, to],
        ),
    },
  });
  report({
    what: `members of the largest universe (${largest.key}, ${symbols.length} symbols) as of ${DAILY} (limit ${QUERY_LIMIT_SECONDS} s)`,
    ...duration(measured.members),
    unit: 's',
    better: 'lower',
  });
  report({
    what: `performance of ${largest.key} (${rows.toLocaleString('en-US')} daily bars, every member and the theme; limit ${QUERY_LIMIT_SECONDS} s)`,
    ...duration(measured.performance),
    unit: 's',
    better: 'lower',
    baseline: { what: 'bare SELECT of the same bar rows (the floor)', ...duration(measured.bare) },
  });
}

/** Commit of a one-row transaction → envelope on pub/sub + stream → subscriber, against a bare PUBLISH. */
async function publishLatency(config: Config, db: Knex): Promise<void> {
  const redis = createRedis(config, 'producer');
  const subscriber = createRedis(config, 'subscriber');
  const publisher = new Publisher(redis, { service: 'bench', prefix: config.prefix, stream: `${config.eventStream}`, streamMaxLen: 10_000 });
  const channel = channelName('universeUpdated', config.prefix);
  const pending = new Map<number, (at: number) => void>();
  subscriber.on('message', (_channel: string, message: string) => {
    const at = performance.now();
    const parsed = JSON.parse(message) as { seq?: number; data?: { run_id?: string } };
    const seq = parsed.data?.run_id !== undefined ? Number(parsed.data.run_id) : parsed.seq;
    if (seq !== undefined) pending.get(seq)?.(at);
  });
  await subscriber.subscribe(channel);
  const measure = async (send: (seq: number) => Promise<unknown>, commit: boolean): Promise<number[]> => {
    const samples: number[] = [];
    for (let seq = 0; seq < PUBLISH_SAMPLES; seq++) {
      const arrived = new Promise<number>((resolve) => pending.set(seq, resolve));
      if (commit)
        await db.transaction((trx) =>
          trx('sync_task_state')
            .insert({ task: 'bench', synced_through: DAILY, run_id: String(seq) })
            .onConflict('task')
            .merge(),
        );
      const committed = performance.now();
      await send(seq);
      samples.push((await arrived) - committed);
      pending.delete(seq);
    }
    return samples;
  };
  try {
    const ours = await measure(
      (seq) =>
        publisher.publish(
          'universeUpdated',
          { universe: 'bench', added: [], removed: [], updated: [], members: 0, trading_date: DAILY, run_id: String(seq) },
          'bench',
        ),
      true,
    );
    const bare = await measure((seq) => redis.publish(channel, JSON.stringify({ seq })), true);
    for (const [label, q] of [
      ['p50', 0.5],
      ['p99', 0.99],
    ] as const) {
      report({
        what: `commit → envelope on pub/sub + stream → subscriber, ${label} of ${PUBLISH_SAMPLES}`,
        value: quantile(ours, q),
        runs: PUBLISH_SAMPLES,
        unit: 'ms',
        better: 'lower',
        baseline: { what: 'bare PUBLISH of the payload', value: quantile(bare, q), runs: PUBLISH_SAMPLES },
      });
    }
  } finally {
    await closeRedis(subscriber);
    await closeRedis(redis);
  }
}

export async function run(): Promise<void> {
  section('universes: end-of-day sync and its notifications');
  const base = loadConfig();
  const id = randomBytes(4).toString('hex');
  const config: Config = {
    ...base,
    dbSchema: `bench_${id}`,
    prefix: `bench-${id}`,
    logLevel: 'silent',
  };
  await migrateLatest(dbSettings(config));
  const db = createDb(dbSettings(config));
  const redis: RedisClient = createRedis(config, 'producer');
  try {
    const started = performance.now();
    const bars = await seed(db, config.dbSchema);
    process.stdout.write(
      `  (seeded ${STOCKS + ETFS} symbols and ${bars.toLocaleString('en-US')} daily bars in ${((performance.now() - started) / 1000).toFixed(1)} s)\n`,
    );
    await syncFigures(config, db);
    await universeQueries(config, db);
    await publishLatency(config, db);
  } finally {
    await db.raw(`DROP SCHEMA ${ident(config.dbSchema)} CASCADE`);
    await db.destroy();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${config.prefix}:*`, 'COUNT', 1_000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    await redis.del(config.eventStream);
    await closeRedis(redis);
  }
}
