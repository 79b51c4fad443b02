import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { loadConfig, type Config } from '../src/shared/config.js';
import { createDb, dbSettings, ident, migrateLatest } from '../src/shared/db.js';
import { eventStreamName } from '../src/shared/namespace.js';
import { MemoryWeb, readStreamedBars, seedMinuteBars } from '../test/helpers/memory.js';
import { clearRedis } from '../test/helpers/redis.js';
import { report, section } from './report.js';

export const name = 'stream';

const MIB = 1024 * 1024;
const START = Date.UTC(2000, 0, 1);
const SYMBOL = 'BIG';
const FORMATS = ['ndjson', 'csv', 'arrow'] as const;

/** Answer sizes in rows: TICKFORGE_BENCH_STREAM_ROWS (comma-separated), else 1 M and 10 M. */
function answerSizes(): number[] {
  const sizes = (process.env.TICKFORGE_BENCH_STREAM_ROWS ?? '1000000,10000000').split(',').map(Number);
  if (sizes.length < 2 || sizes.some((rows) => !Number.isInteger(rows) || rows < 1))
    throw new Error(
      `TICKFORGE_BENCH_STREAM_ROWS must list at least two row counts, got ${process.env.TICKFORGE_BENCH_STREAM_ROWS}`,
    );
  return sizes.sort((a, b) => a - b);
}

const rowsLabel = (rows: number) => (rows >= 1e6 ? `${rows / 1e6} M` : `${rows / 1e3} k`);

/**
 * Seconds PostgreSQL takes to hand out the first `rows` bars of the series, drained by a client
 * that keeps nothing: binary COPY … TO STDOUT of the columns the answer carries, the limit a
 * streamed answer approaches.
 */
async function copyOutSeconds(config: Config, rows: number): Promise<number> {
  const client = new pg.Client({ connectionString: config.databaseUrl });
  await client.connect();
  try {
    const started = performance.now();
    const sql = `COPY (SELECT ts, open, high, low, close, volume, vwap, trade_count FROM ${ident(config.dbSchema)}.bars
                       WHERE symbol = '${SYMBOL}' AND timeframe = '1m' AND variant = '' AND ts < '${new Date(START + rows * 60_000).toISOString()}'
                       ORDER BY ts) TO STDOUT (FORMAT binary)`;
    for await (const chunk of client.query(copyTo(sql)) as AsyncIterable<Buffer>) void chunk;
    return (performance.now() - started) / 1000;
  } finally {
    await client.end();
  }
}

/**
 * Memory of the web process while it streams a large GET /api/bars answer: a 1m series of the
 * largest size is seeded with COPY, and each streamed format is read through a real HTTP
 * request at each size (the range cut with `to`) while the web process, a process of its own
 * started afresh for each request, samples its RSS every 10 ms. The figure is the peak RSS above the level after a full collection
 * before the request; beside the smallest size, the baseline is the same process building the
 * JSON document of those rows in memory (the one-document answer without its row limit), and
 * beside each larger size the same format's smallest: a ratio near 1 is flat memory. The rate
 * of each answer is printed beside its limit, PostgreSQL's own binary COPY of the same rows.
 */
export async function run(): Promise<void> {
  const sizes = answerSizes();
  const largest = sizes[sizes.length - 1];
  const id = randomBytes(4).toString('hex');
  const config = {
    ...loadConfig({}),
    dbSchema: `bench_stream_${id}`,
    prefix: `bench-stream-${id}`,
    eventStream: eventStreamName(`bench-stream-${id}`),
    apiToken: randomBytes(16).toString('hex'),
    cacheMissRateLimit: 10_000,
  };
  section(`Large results: web process memory streaming GET /api/bars, ${sizes.map(rowsLabel).join(' and ')} rows`);
  await migrateLatest(dbSettings(config));
  const db = createDb(dbSettings(config));
  let web: MemoryWeb | undefined;
  try {
    const seeding = performance.now();
    await seedMinuteBars(db, config.dbSchema, SYMBOL, largest, START);
    process.stdout.write(
      `  (seeded ${rowsLabel(largest)} 1m rows with binary COPY in ${((performance.now() - seeding) / 1000).toFixed(1)} s)\n`,
    );
    /** Measures `work` in a web process of its own, so no request finds memory an earlier one left. */
    const inFreshProcess = async <T>(work: (server: MemoryWeb) => Promise<T>) => {
      web = await MemoryWeb.start(config);
      const server = web;
      const measured = await server.growth(() => work(server));
      await server.stop();
      web = undefined;
      return measured;
    };
    const json = await inFreshProcess((server) => server.buildJson(SYMBOL, '1m', sizes[0]));
    const copySeconds = new Map<number, number>();
    for (const rows of sizes) copySeconds.set(rows, await copyOutSeconds(config, rows));
    for (const format of FORMATS) {
      let smallest = 0;
      for (const rows of sizes) {
        const query = {
          symbol: SYMBOL,
          timeframe: '1m',
          session: '24h',
          to: new Date(START + rows * 60_000).toISOString(),
          format,
        };
        // Timed from the request to the last byte: the web process's start and stop are not the answer's.
        const { growth, outcome } = await inFreshProcess(async (server) => {
          const started = performance.now();
          const answer = await readStreamedBars(server.url, config.apiToken, query);
          return { ...answer, seconds: (performance.now() - started) / 1000 };
        });
        const seconds = outcome.seconds;
        const expectedLines = format === 'ndjson' ? rows : format === 'csv' ? rows + 1 : undefined;
        if (outcome.status !== 200 || (expectedLines !== undefined && outcome.lines !== expectedLines))
          throw new Error(`${format}, ${rows} rows: answered ${outcome.status} with ${outcome.lines} lines`);
        const label = `${format}, ${rowsLabel(rows)} rows (${(outcome.bytes / MIB).toFixed(0)} MiB)`;
        report({
          what: `${label}: peak RSS growth`,
          value: growth.rss / MIB,
          unit: 'MiB',
          better: 'lower',
          baseline:
            rows === sizes[0]
              ? {
                  what: `JSON document of ${rowsLabel(rows)} rows built in memory (${(json.outcome.length / MIB).toFixed(0)} MiB)`,
                  value: json.growth.rss / MIB,
                }
              : { what: `${format}, ${rowsLabel(sizes[0])} rows`, value: smallest },
        });
        report({
          what: `${label}: rows streamed per second`,
          value: rows / seconds,
          unit: 'rows/s',
          baseline: {
            what: "limit: PostgreSQL's own binary COPY … TO STDOUT of the same rows, drained",
            value: rows / copySeconds.get(rows)!,
          },
        });
        if (rows === sizes[0]) smallest = growth.rss / MIB;
      }
    }
  } finally {
    await web?.stop();
    await db.raw(`DROP SCHEMA IF EXISTS ${ident(config.dbSchema)} CASCADE`);
    await db.destroy();
    await clearRedis(config);
  }
}
