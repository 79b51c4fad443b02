import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { QueueEvents } from 'bullmq';
import { WorkerRuntime } from '../workers/runtime.js';
import { KernelPool } from '../src/kernels/pool.js';
import { loadConfig, type Config } from '../src/shared/config.js';
import { BarsRepository } from '../src/bars/bars.repository.js';
import { createDb, dbSettings, ident, migrateLatest, type Knex } from '../src/shared/db.js';
import { SandboxRepository } from '../src/scenarios/sandbox.repository.js';
import { allocateBars } from '../src/bars/columns.js';
import { derivableTargets } from '../src/bars/aggregate.js';
import { buildSymbol, runScenarioBatch, type ScenarioSpec } from '../src/scenarios/batch.js';
import { SCENARIOS } from '../src/scenarios/catalog.js';
import { generateSeries, type SessionGrid } from '../src/scenarios/generator.js';
import type { ModelParams } from '../src/scenarios/model.js';
import { ScenarioRandom } from '../src/scenarios/random.js';
import { sessionGrid, syntheticSymbols } from '../src/scenarios/run.js';
import { createLogger } from '../src/shared/logger.js';
import { Producer } from '../src/queues/producer.js';
import type { PayloadOf } from '../src/queues/registry.js';
import { closeRedis, createRedis } from '../src/shared/redis.js';
import { duration, interleaved, summarize, timed } from './measure.js';
import { report, section } from './report.js';

export const name = 'scenario';

const SYMBOLS = 500;
const SESSIONS = 252;

/** The floor any generator pays: a Gaussian random walk with the same PRNG, built into bars. */
function randomWalk(symbols: string[], grid: SessionGrid): void {
  const sessions = grid.midnight.length;
  for (const symbol of symbols) {
    const random = new ScenarioRandom(1, symbol, 'walk');
    const bars = allocateBars(sessions);
    let price = 100;
    for (let t = 0; t < sessions; t++) {
      const open = price;
      price *= Math.exp(0.01 * random.normal());
      bars.ts[t] = grid.midnight[t];
      bars.open[t] = open;
      bars.close[t] = price;
      bars.high[t] = Math.max(open, price) * (1 + 0.005 * random.uniform());
      bars.low[t] = Math.min(open, price) * (1 - 0.005 * random.uniform());
      bars.volume[t] = Math.round(1e6 * random.uniform());
    }
  }
}

function spec(timeframe: '1d' | '1m', targets: ScenarioSpec['targets']): ScenarioSpec {
  return { scenario: 'crash_2020', params: SCENARIOS.crash_2020.params.parse({}) as ModelParams, seed: 42, timeframe, targets };
}

async function loadSeconds(db: Knex, schema: string, copy: string): Promise<number> {
  await db.raw(`TRUNCATE ${ident(schema)}.bars`);
  const seconds = await timed(() => db.transaction((trx) => new BarsRepository(trx, schema).upsertCopy(copy)));
  await db.raw(`TRUNCATE ${ident(schema)}.bars`);
  return seconds;
}

async function daily(db: Knex, schema: string): Promise<void> {
  const { grid } = sessionGrid('2020-01-01', SESSIONS);
  const symbols = syntheticSymbols(SYMBOLS);
  const dailySpec = spec('1d', []);
  const scenario = SCENARIOS.crash_2020 as unknown as Parameters<typeof generateSeries>[0]['scenario'];
  const generation = await interleaved({
    generate: {
      run: () => {
        for (const symbol of symbols)
          generateSeries({ scenario, params: dailySpec.params, seed: 42, symbol, grid, timeframe: '1d' });
      },
    },
    walk: { run: () => randomWalk(symbols, grid) },
  });
  report({
    what: `generate ${SYMBOLS} symbols × ${SESSIONS} daily sessions (crash_2020: GJR-GARCH-t, drawdown landing, bridge highs/lows), one thread`,
    ...duration(generation.generate),
    unit: 's',
    baseline: { what: 'Gaussian random walk with the same PRNG, built into bars', ...duration(generation.walk) },
    better: 'lower',
  });

  const threads = os.availableParallelism();
  const pool = new KernelPool(threads);
  const batches: string[][] = [];
  for (let i = 0; i < symbols.length; i += 25) batches.push(symbols.slice(i, i + 25));
  const batch = await interleaved(
    {
      pooled: {
        run: () => Promise.all(batches.map((symbols) => pool.run('generateScenario', { spec: dailySpec, symbols, grid }))),
      },
      inline: { run: () => runScenarioBatch(dailySpec, symbols, grid) },
    },
    3,
  );
  await pool.destroy();
  report({
    what: `generate + validate + COPY-encode ${SYMBOLS} × ${SESSIONS} daily in the pool (${threads} threads, batches of 25; target < 1 s)`,
    ...duration(batch.pooled),
    unit: 's',
    baseline: { what: 'the same on one thread', ...duration(batch.inline) },
    better: 'lower',
  });

  const copy = runScenarioBatch(dailySpec, symbols, grid).copy;
  const load = await loadSeconds(db, schema, copy);
  report({
    what: `load ${(SYMBOLS * SESSIONS).toLocaleString('en-US')} daily bars into the sandbox (COPY + upsert)`,
    value: load,
    unit: 's',
  });
}

async function minute(db: Knex, schema: string): Promise<void> {
  const { grid } = sessionGrid('2020-01-01', SESSIONS);
  const targets = derivableTargets('1m');
  const minuteSpec = spec('1m', targets);
  const scenario = SCENARIOS.crash_2020 as unknown as Parameters<typeof generateSeries>[0]['scenario'];
  // Interleaved after a warm-up each, so neither side gains from running on a warmer JIT.
  const minuteRuns = await interleaved({
    generate: { run: () => buildSymbol(minuteSpec, 'SYN0001', grid) },
    simulate: {
      run: () => generateSeries({ scenario, params: minuteSpec.params, seed: 42, symbol: 'SYN0001', grid, timeframe: '1m' }),
    },
    whole: { run: () => runScenarioBatch(minuteSpec, ['SYN0001'], grid) },
  });
  const built = buildSymbol(minuteSpec, 'SYN0001', grid);
  const rows = built.stored.reduce((sum, s) => sum + s.bars.ts.length, 0);
  report({
    what: `generate 1 symbol × ${SESSIONS} sessions of 1m bars (${built.stored[0].bars.ts.length.toLocaleString('en-US')}) aggregated to all ${targets.length} timeframes, one thread`,
    ...duration(minuteRuns.generate),
    unit: 's',
    baseline: { what: '1m simulation alone, no aggregation', ...duration(minuteRuns.simulate) },
    better: 'lower',
  });
  report({
    what: 'generate + aggregate + validate + COPY-encode the same (target < 0.5 s)',
    ...duration(minuteRuns.whole),
    unit: 's',
  });
  const copy = runScenarioBatch(minuteSpec, ['SYN0001'], grid).copy;
  const load = await loadSeconds(db, schema, copy);
  report({
    what: `load its ${rows.toLocaleString('en-US')} bars into the sandbox (COPY + upsert; ${(copy.length / 1e6).toFixed(1)} MB of COPY text)`,
    value: load,
    unit: 's',
  });
}

/** The whole job through BullMQ: validate, pool, load, report, event. */
async function endToEnd(config: Config, payload: PayloadOf<'generate-scenario'>, what: string): Promise<void> {
  const runtime = await WorkerRuntime.start({
    config: { ...config, queues: ['scenario'] },
    logger: createLogger('bench', 'silent'),
  });
  const redis = createRedis(config, 'producer');
  const producer = new Producer(redis, config.prefix);
  const events = new QueueEvents('scenario', { connection: { url: config.redisUrl }, prefix: config.prefix });
  await events.waitUntilReady();
  try {
    const samples: number[] = [];
    for (let round = 0; round < 3; round++) {
      const seconds = await timed(async () => {
        const job = await producer.enqueue('generate-scenario', { ...payload, seed: 100 + round });
        await (await producer.queue('scenario').getJob(job.id))!.waitUntilFinished(events, 120_000);
      });
      samples.push(seconds);
    }
    report({
      what: `${what}: generate-scenario job end to end (enqueue → generated, validated, loaded, announced)`,
      ...duration(summarize(samples)),
      unit: 's',
    });
  } finally {
    await events.close();
    await producer.queue('scenario').obliterate({ force: true });
    await producer.close();
    await closeRedis(redis);
    await runtime.stop();
  }
}

export async function run(): Promise<void> {
  section(
    'scenario: synthetic market generation (targets: < 1 s for 500 × 252 daily, < 0.5 s for 1 × 252 of 1m; the replaced system took 90 s a scenario)',
  );
  const base = loadConfig();
  const id = randomBytes(4).toString('hex');
  const config: Config = {
    ...base,
    dbSchema: `bench_${id}`,
    sandboxSchema: `bench_${id}_sandbox`,
    prefix: `bench-${id}`,
    logLevel: 'silent',
  };
  await migrateLatest(dbSettings(config));
  const db = createDb(dbSettings(config));
  try {
    await db.transaction((trx) =>
      new SandboxRepository(trx, config.sandboxSchema).ensure(config.sandboxSchemaLimit, config.dbSchema),
    );
    await daily(db, config.sandboxSchema);
    await minute(db, config.sandboxSchema);
    await endToEnd(config, { scenario: 'crash_2020', count: SYMBOLS }, `${SYMBOLS} × ${SESSIONS} daily`);
    await endToEnd(config, { scenario: 'crash_2020', count: 1, timeframe: '1m' }, `1 × ${SESSIONS} of 1m to all timeframes`);
  } finally {
    await db.raw(`DROP SCHEMA IF EXISTS ${ident(config.sandboxSchema)} CASCADE`);
    await db.raw(`DROP SCHEMA ${ident(config.dbSchema)} CASCADE`);
    await db.destroy();
  }
}
