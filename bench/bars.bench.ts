import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { QueueEvents } from 'bullmq';
import { WorkerRuntime } from '../workers/runtime.js';
import { BarsCache } from '../src/bars/cache.js';
import { loadConfig, type Config } from '../src/shared/config.js';
import { BarsRepository } from '../src/bars/bars.repository.js';
import { createDb, dbSettings, ident, migrateLatest, type Knex } from '../src/shared/db.js';
import { aggregateBars } from '../src/bars/aggregate.js';
import { aggregateOnPool } from '../src/bars/aggregate-split.js';
import { allocateSharedBars, encodeCopyRows, type BarColumns } from '../src/bars/columns.js';
import { KernelPool } from '../src/kernels/pool.js';
import { NYSE } from '../src/shared/calendar.js';
import { coarserThan, INTRADAY_MINUTES, type Timeframe } from '../src/bars/timeframes.js';
import { createLogger } from '../src/shared/logger.js';
import { Producer } from '../src/queues/producer.js';
import { closeRedis, createRedis } from '../src/shared/redis.js';
import { startProcess } from '../test/helpers/process.js';
import { clearRedis } from '../test/helpers/redis.js';
import { duration, summarize } from './measure.js';
import { quantile, report, section } from './report.js';

export const name = 'bars';

/** 10 M one-minute rows: four symbols of 6,410 regular sessions (2000-01-03 … 2025-06) each. */
const SYMBOLS = 4;
const SESSIONS_PER_SYMBOL = 6_410;
/** Timed runs per symbol and engine (the best counts) and untimed warm-up runs on the first symbol. */
const ROUNDS = 5;
const WARMUP_RUNS = 3;
/** aggregate-bars job and SQL baseline runs (the median counts). */
const JOB_ROUNDS = 3;
const KERNEL_TARGETS = ['5m', '1h', '1d'] as const;
const SEED = 20_261_122;
const API_REQUESTS = 2_000;
const API_MISSES = 300;
/** Untimed requests first, so the server's handlers are compiled and its caches warm, as for every other figure. */
const API_WARMUP = 500;

/** A seeded xorshift generator: the same bars on every run. */
function generator(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

/**
 * Regular-session 1m bars for sessions [first, first + count) of the NYSE calendar, on shared
 * buffers so the pool's threads read them in place.
 */
function sessionBars(first: number, count: number, seed: number): BarColumns {
  let rows = 0;
  for (let s = first; s < first + count; s++) rows += (NYSE.sessionAt(s)!.close - NYSE.sessionAt(s)!.open) / 60_000;
  const bars = allocateSharedBars(rows);
  const random = generator(seed);
  let price = 100;
  let i = 0;
  for (let s = first; s < first + count; s++) {
    const session = NYSE.sessionAt(s)!;
    for (let t = session.open; t < session.close; t += 60_000, i++) {
      const open = price;
      price = Math.max(1, price * (1 + (random() - 0.5) * 0.002));
      bars.ts[i] = t;
      bars.open[i] = open;
      bars.close[i] = price;
      bars.high[i] = Math.max(open, price) * (1 + random() * 0.0005);
      bars.low[i] = Math.min(open, price) * (1 - random() * 0.0005);
      bars.volume[i] = Math.floor(random() * 10_000);
      bars.vwap[i] = NaN;
      bars.tradeCount[i] = NaN;
    }
  }
  return bars;
}

// Typed only as far as the benchmark uses it: nodejs-polars lives outside the project's dependencies.
interface PolarsFrame {
  groupByDynamic(options: { indexColumn: string; every: string; offset?: string }): {
    agg(...columns: unknown[]): PolarsResult;
  };
}
interface PolarsResult {
  height: number;
  getColumn(name: string): { toArray(): Array<number | bigint> };
}
interface PolarsExpr {
  first(): PolarsExpr;
  last(): PolarsExpr;
  max(): PolarsExpr;
  min(): PolarsExpr;
  sum(): PolarsExpr;
  add(other: PolarsExpr): PolarsExpr;
  div(value: number): PolarsExpr;
  mul(other: PolarsExpr): PolarsExpr;
  alias(name: string): PolarsExpr;
}
interface Polars {
  DataFrame(columns: Record<string, unknown>): PolarsFrame;
  Series(name: string, values: Float64Array): { cast(type: unknown): { cast(type: unknown): unknown } };
  col(name: string): PolarsExpr;
  Int64: unknown;
  Datetime(unit: string): unknown;
}

const POLARS_DIR = fileURLToPath(new URL('../../bench/polars/', import.meta.url));

function loadPolars(): Polars | undefined {
  if (!existsSync(`${POLARS_DIR}node_modules/nodejs-polars`)) return undefined;
  return createRequire(`${POLARS_DIR}package.json`)('nodejs-polars') as Polars;
}

/** The same aggregation as the kernel's for these grids: OHLCV and Σ(typical·v), session-aligned hours. */
function polarsAggregate(pl: Polars, frame: PolarsFrame, target: (typeof KERNEL_TARGETS)[number]): PolarsResult {
  const every = target === '1h' ? '1h' : target === '5m' ? '5m' : '1d';
  const typical = pl.col('high').add(pl.col('low')).add(pl.col('close')).div(3);
  return frame
    .groupByDynamic({ indexColumn: 'ts', every, ...(target === '1h' ? { offset: '30m' } : {}) })
    .agg(
      pl.col('open').first(),
      pl.col('high').max(),
      pl.col('low').min(),
      pl.col('close').last(),
      pl.col('volume').sum(),
      typical.mul(pl.col('volume')).sum().alias('pv'),
    );
}

/**
 * Refuses to compare speeds unless both engines made the same buckets: the same number, and
 * the same open, high, low, close and volume in each (bucket labels differ: Polars counts 1d
 * from UTC midnight, the kernel from the session's open, with the same session inside).
 */
function assertSameBuckets(
  pl: Polars,
  frame: PolarsFrame,
  ours: BarColumns,
  how: string,
  target: (typeof KERNEL_TARGETS)[number],
): void {
  const theirs = polarsAggregate(pl, frame, target);
  if (theirs.height !== ours.ts.length)
    throw new Error(
      `1m→${target}: the kernel (${how}) made ${ours.ts.length} buckets, Polars ${theirs.height}; the figures would not compare`,
    );
  for (const column of ['open', 'high', 'low', 'close', 'volume'] as const) {
    const values = theirs.getColumn(column).toArray();
    for (let i = 0; i < values.length; i++) {
      const expected = Number(values[i]);
      if (Math.abs(ours[column][i] - expected) > 1e-9 * Math.max(1, Math.abs(expected)))
        throw new Error(
          `1m→${target}: bucket ${i} ${column} is ${ours[column][i]} in the kernel (${how}), ${expected} in Polars`,
        );
    }
  }
}

/**
 * One pass over every column the kernel reads, summing them: the memory traffic of an
 * aggregation with none of its work, the limit a one-thread kernel approaches.
 */
function columnPass(bars: BarColumns): number {
  const { ts, open, high, low, close, volume, vwap, tradeCount } = bars;
  let sum = 0;
  for (let i = 0; i < ts.length; i++) sum += ts[i] + open[i] + high[i] + low[i] + close[i] + volume[i] + vwap[i] + tradeCount[i];
  return sum;
}

async function seconds(run: () => unknown): Promise<number> {
  const started = performance.now();
  await run();
  return (performance.now() - started) / 1000;
}

/** Untimed warm-up runs on the first symbol, then the best of ROUNDS timed runs. */
async function best(symbol: number, run: () => unknown): Promise<number> {
  if (symbol === 0) for (let warm = 0; warm < WARMUP_RUNS; warm++) await run();
  let fastest = Infinity;
  for (let round = 0; round < ROUNDS; round++) fastest = Math.min(fastest, await seconds(run));
  return fastest;
}

/**
 * The kernel split over a pool of one thread per core (what aggregate-bars does with a long
 * series), the kernel on one thread, and Polars, which uses every core.
 */
async function kernelVsPolars(): Promise<void> {
  const pl = loadPolars();
  const cores = availableParallelism();
  const pool = new KernelPool(cores);
  const engines = ['pool', 'one', 'polars'] as const;
  const times = new Map(engines.map((engine) => [engine, new Map<string, number>(KERNEL_TARGETS.map((target) => [target, 0]))]));
  const add = (engine: (typeof engines)[number], target: string, value: number) =>
    times.get(engine)!.set(target, times.get(engine)!.get(target)! + value);
  let rows = 0;
  let passSeconds = 0;
  try {
    // One symbol in memory at a time: its columns and, for Polars, its frame.
    for (let symbol = 0; symbol < SYMBOLS; symbol++) {
      const bars = sessionBars(0, SESSIONS_PER_SYMBOL, SEED + symbol);
      rows += bars.ts.length;
      const frame = pl?.DataFrame({
        ts: pl.Series('ts', bars.ts).cast(pl.Int64).cast(pl.Datetime('ms')),
        open: bars.open,
        high: bars.high,
        low: bars.low,
        close: bars.close,
        volume: bars.volume,
      });
      passSeconds += await best(symbol, () => columnPass(bars));
      // Engine by engine rather than interleaved: Polars' worker threads linger for a moment
      // after each call and would slow the kernel measured right after.
      for (const target of KERNEL_TARGETS) {
        const options = { source: '1m', targets: [target] } as const;
        add('one', target, await best(symbol, () => aggregateBars(bars, options)));
        add('pool', target, await best(symbol, () => aggregateOnPool(pool, bars, options)));
        if (pl && frame && symbol === 0) {
          assertSameBuckets(pl, frame, aggregateBars(bars, options).bars[target]!, 'one thread', target);
          assertSameBuckets(pl, frame, (await aggregateOnPool(pool, bars, options)).bars[target]!, 'on the pool', target);
        }
      }
      if (pl && frame)
        for (const target of KERNEL_TARGETS) add('polars', target, await best(symbol, () => polarsAggregate(pl, frame, target)));
    }
  } finally {
    await pool.destroy();
  }
  const polars = (target: string) =>
    pl
      ? {
          baseline: {
            what: `nodejs-polars groupByDynamic every ${target} (all ${cores} cores)`,
            value: rows / times.get('polars')!.get(target)!,
          },
        }
      : {};
  const described = `${rows.toLocaleString('en-US')} rows (session-aligned, NYSE calendar`;
  for (const target of KERNEL_TARGETS) {
    report({
      what: `kernel 1m→${target} on the pool, ${described}; split over ${cores} threads)`,
      value: rows / times.get('pool')!.get(target)!,
      unit: 'rows/s',
      ...polars(target),
    });
    report({
      what: `kernel 1m→${target}, ${described}; one thread)`,
      value: rows / times.get('one')!.get(target)!,
      unit: 'rows/s',
      ...polars(target),
    });
    report({
      what: `kernel 1m→${target}, ${described}; one thread), against the limit`,
      value: rows / times.get('one')!.get(target)!,
      unit: 'rows/s',
      baseline: { what: 'limit: one pass reading the same 8 columns, summing them (one thread)', value: rows / passSeconds },
    });
  }
  if (!pl)
    process.stdout.write('  Polars baseline skipped: nodejs-polars is not installed; install it with `npm run bench:setup`\n');
}

/** The SQL baseline: one INSERT … SELECT … GROUP BY per timeframe, session-aligned in New York time. */
function groupBySql(schema: string, symbol: string, timeframe: Timeframe): string {
  const table = `${ident(schema)}.bars`;
  const local = `(ts AT TIME ZONE 'America/New_York')`;
  const minutes = INTRADAY_MINUTES[timeframe];
  const bucket =
    minutes !== undefined
      ? `date_bin(interval '${minutes} minutes', ${local}, date_trunc('day', ${local}) + interval '9 hours 30 minutes')`
      : timeframe === '1d'
        ? `date_trunc('day', ${local})`
        : timeframe === '2d'
          ? `(SELECT p.first_date FROM _bench_sessions p WHERE p.date = date_trunc('day', ${local})::date)::timestamp`
          : timeframe === '1w'
            ? `date_trunc('week', ${local})`
            : `date_trunc('month', ${local})`;
  return `
    INSERT INTO ${table} (symbol, timeframe, variant, ts, open, high, low, close, volume, vwap, trade_count, source)
    SELECT '${symbol}', '${timeframe}', 'sql', bucket AT TIME ZONE 'America/New_York',
           (array_agg(open ORDER BY ts))[1], max(high), min(low), (array_agg(close ORDER BY ts DESC))[1], sum(volume),
           coalesce(sum(coalesce(vwap, (high + low + close) / 3) * volume) / nullif(sum(volume), 0), (array_agg(close ORDER BY ts DESC))[1]),
           NULL, 'aggregate'
    FROM (SELECT *, ${bucket} AS bucket FROM ${table}
          WHERE symbol = '${symbol}' AND timeframe = '1m' AND variant = ''
            AND ${local}::time >= '09:30' AND ${local}::time < '16:00') base
    GROUP BY bucket
    ON CONFLICT (symbol, timeframe, variant, ts) DO UPDATE
      SET open = excluded.open, high = excluded.high, low = excluded.low, close = excluded.close,
          volume = excluded.volume, vwap = excluded.vwap`;
}

async function jobVsSql(config: Config, db: Knex): Promise<void> {
  const schema = config.dbSchema;
  const first = NYSE.nextSession('2022-12-31').index;
  const count = NYSE.sessionCount(2023);
  const bars = sessionBars(first, count, SEED);
  await db.transaction((trx) =>
    new BarsRepository(trx, schema).upsertCopy(
      encodeCopyRows({ symbol: 'BENCH', timeframe: '1m', variant: '' }, 'provider', bars),
    ),
  );
  await db.raw(`CREATE UNLOGGED TABLE _bench_sessions (date date PRIMARY KEY, first_date date)`);
  const sessions = NYSE.sessionsBetween('2022-01-01', '2024-12-31');
  await db('_bench_sessions').insert(
    sessions.map((s) => ({ date: s.date, first_date: NYSE.sessionAt(s.index - (s.index % 2))!.date })),
  );
  const targets = coarserThan('1m');
  // Each side clears only its own bars, so both stay to be compared at the end.
  const clear = (variant: string) =>
    db.raw(`DELETE FROM ${ident(schema)}.bars WHERE symbol = 'BENCH' AND variant = ?`, [variant]);

  const sqlRuns: number[] = [];
  for (let round = 0; round < JOB_ROUNDS; round++) {
    await clear('sql');
    const started = performance.now();
    await db.transaction(async (trx) => {
      for (const timeframe of targets) await trx.raw(groupBySql(schema, 'BENCH', timeframe));
    });
    sqlRuns.push((performance.now() - started) / 1000);
  }
  const sqlRows = Number(
    (
      await db(db.raw(`${ident(schema)}.bars`))
        .where({ symbol: 'BENCH', variant: 'sql' })
        .count({ n: '*' })
    )[0].n,
  );

  const runtime = await WorkerRuntime.start({
    config: { ...config, queues: ['aggregate'] },
    logger: createLogger('bench', 'silent'),
  });
  const redis = createRedis(config, 'producer');
  const producer = new Producer(redis, config.prefix);
  const events = new QueueEvents('aggregate', { connection: { url: config.redisUrl }, prefix: config.prefix });
  await events.waitUntilReady();
  const jobRuns: number[] = [];
  try {
    for (let round = 0; round < JOB_ROUNDS; round++) {
      await clear('regular');
      const started = performance.now();
      const { id } = await producer.enqueue('aggregate-bars', { symbols: 'BENCH' });
      await (await producer.queue('aggregate').getJob(id))!.waitUntilFinished(events, 120_000);
      jobRuns.push((performance.now() - started) / 1000);
    }
  } finally {
    await events.close();
    await runtime.stop();
    await producer.close();
    await closeRedis(redis);
  }
  const jobRows = Number(
    (
      await db(db.raw(`${ident(schema)}.bars`))
        .where({ symbol: 'BENCH', variant: 'regular' })
        .count({ n: '*' })
    )[0].n,
  );
  // The two sides must have written the same bars, or the comparison means nothing.
  const differences = await db.raw<{ rows: Array<{ timeframe: string; ts: Date; job: boolean; sql: boolean }> }>(`
    SELECT coalesce(j.timeframe, q.timeframe) AS timeframe, coalesce(j.ts, q.ts) AS ts, j.ts IS NOT NULL AS job, q.ts IS NOT NULL AS sql
    FROM (SELECT * FROM ${ident(schema)}.bars WHERE symbol = 'BENCH' AND variant = 'regular') j
    FULL JOIN (SELECT * FROM ${ident(schema)}.bars WHERE symbol = 'BENCH' AND variant = 'sql') q USING (timeframe, ts)
    WHERE j.ts IS NULL OR q.ts IS NULL
       OR abs(j.open - q.open) > 1e-9 * abs(q.open) OR abs(j.high - q.high) > 1e-9 * abs(q.high)
       OR abs(j.low - q.low) > 1e-9 * abs(q.low) OR abs(j.close - q.close) > 1e-9 * abs(q.close)
       OR j.volume <> q.volume
    ORDER BY 1, 2 LIMIT 5`);
  if (differences.rows.length > 0 || jobRows !== sqlRows)
    throw new Error(
      `the aggregate-bars job (${jobRows} bars) and the SQL baseline (${sqlRows}) disagree: ${JSON.stringify(differences.rows)}`,
    );
  report({
    what: `aggregate-bars job, ${bars.ts.length.toLocaleString('en-US')} 1m rows → 13 timeframes (${jobRows} bars written; enqueue to completed)`,
    ...duration(summarize(jobRuns)),
    unit: 's',
    better: 'lower',
    baseline: { what: `13 × INSERT … SELECT … GROUP BY in PostgreSQL (${sqlRows} bars)`, ...duration(summarize(sqlRuns)) },
  });
}

/** One GET over a kept-alive connection: the time to the last byte of a 200 answer. */
function timeGet(url: string, agent: http.Agent, headers: http.OutgoingHttpHeaders = {}): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const started = performance.now();
    http
      .get(url, { agent, headers }, (response) => {
        if (response.statusCode !== 200) reject(new Error(`GET ${url} answered ${response.statusCode}`));
        response.resume().on('end', () => resolve(performance.now() - started));
      })
      .on('error', reject);
  });
}

/** API_WARMUP untimed then API_REQUESTS timed sequential GETs of `url`, on one kept-alive connection. */
async function sequentialGets(url: string, headers: http.OutgoingHttpHeaders = {}): Promise<number[]> {
  // node:http, the lightest client, so the figure is the server's.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (let i = 0; i < API_WARMUP; i++) await timeGet(url, agent, headers);
    const times: number[] = [];
    for (let i = 0; i < API_REQUESTS; i++) times.push(await timeGet(url, agent, headers));
    return times;
  } finally {
    agent.destroy();
  }
}

/**
 * p99 of sequential GETs from a bare node:http process answering `body` from memory (see
 * bare-http.ts), with one Redis round trip per request when `redisKey` is given.
 */
async function bareHttpP99(body: Buffer, config: Config, redisKey?: string): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'tickforge-bench-'));
  const file = join(dir, 'body.json');
  writeFileSync(file, body);
  const server = spawn(
    process.execPath,
    [fileURLToPath(new URL('./bare-http.js', import.meta.url)), file, ...(redisKey ? [config.redisUrl, redisKey] : [])],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const [line] = (await once(createInterface({ input: server.stdout }), 'line')) as [string];
    return quantile(await sequentialGets(`http://127.0.0.1:${line.trim()}/`), 0.99);
  } finally {
    server.kill('SIGTERM');
    await once(server, 'exit');
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Latency of GET /api/bars as a client sees it, against a web process of its own (the bench
 * process's heap, grown by the kernel runs above, would otherwise add its GC pauses), beside
 * the limit: a bare node:http process answering the same bytes, without and with the one Redis
 * round trip a cache hit makes.
 */
async function apiLatency(config: Config): Promise<void> {
  const web = startProcess('web', { ...config, port: 0 });
  const listening = await web.waitForLine((line) => /web listening on/.test(line.msg ?? ''));
  const webUrl = /(http:\/\/[\d.:]+)/.exec(String(listening.msg))![1];
  const redis = createRedis(config, 'producer');
  const cache = new BarsCache(redis, config.prefix);
  const headers = { authorization: `Bearer ${config.apiToken}` };
  const url = `${webUrl}/api/bars?symbol=BENCH&timeframe=1h&from=2023-03-01&to=2023-03-31`;
  try {
    const body = Buffer.from(await (await fetch(url, { headers })).arrayBuffer());
    const cached = await sequentialGets(url, headers);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const computed: number[] = [];
    try {
      for (let i = 0; i < API_MISSES; i++) {
        // A new version makes every request a miss: read from PostgreSQL, encode, store.
        await cache.bump('BENCH', '1h');
        computed.push(await timeGet(url, agent, headers));
      }
    } finally {
      agent.destroy();
    }
    const figure = `GET /api/bars 1h, one month (${API_REQUESTS} sequential requests, cache hit) p99`;
    const baselines = [
      { against: '', what: 'the same request computed (cache miss) p99', value: quantile(computed, 0.99) },
      {
        against: ', against the limit',
        what: `limit: a bare node:http process answering the same ${body.length.toLocaleString('en-US')} bytes from memory, p99`,
        value: await bareHttpP99(body, config),
      },
      {
        against: ', against the limit with a Redis round trip',
        what: "limit: the same bare process making one Redis GET per request first (a hit's freshness check), p99",
        value: await bareHttpP99(body, config, `${config.prefix}:bench:bare-http`),
      },
    ];
    for (const { against, ...baseline } of baselines)
      report({
        what: `${figure}${against}`,
        value: quantile(cached, 0.99),
        unit: 'ms',
        better: 'lower',
        baseline,
      });
    report({ what: 'GET /api/bars cached p50', value: quantile(cached, 0.5), unit: 'ms' });
    report({ what: 'GET /api/bars cached p90', value: quantile(cached, 0.9), unit: 'ms' });
  } finally {
    await closeRedis(redis);
    await web.stop('SIGTERM');
  }
}

export async function run(): Promise<void> {
  section('bars: aggregation kernel vs nodejs-polars groupByDynamic (10 M synthetic 1m rows, seeded)');
  await kernelVsPolars();

  const id = randomBytes(4).toString('hex');
  const config: Config = {
    ...loadConfig(),
    dbSchema: `bench_${id}`,
    prefix: `bench-${id}`,
    eventStream: `bench-${id}.events`,
    apiToken: randomBytes(18).toString('base64url'),
    logLevel: 'silent',
  };
  await migrateLatest(dbSettings(config));
  const db = createDb(dbSettings(config));
  try {
    section('bars: aggregate-bars job vs one SQL GROUP BY per timeframe (one symbol-year of regular-session 1m)');
    await jobVsSql(config, db);
    section('bars: bars API latency through the cache');
    await apiLatency(config);
  } finally {
    await db.raw(`DROP SCHEMA ${ident(config.dbSchema)} CASCADE`);
    await db.destroy();
    await clearRedis(config);
  }
}
