#!/usr/bin/env node
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { registry, type JobName } from '../../jobs/index.js';
import { loadConfigOrExit, type Config } from '../config.js';
import { dbSettings, migrateLatest, migrateRollback } from '../db/knex.js';
import { TIMEFRAMES } from '../domain/timeframes.js';
import { Producer, UnknownJobError } from '../queues/producer.js';
import { closeRedis, createRedis, waitForRedis } from '../redis.js';
import { ValidationError } from '../validation.js';
import { runDemo } from './demo.js';
import { JobFailedError, progressView, waitForJob } from './wait.js';

function parseJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch (error) {
    throw new InvalidArgumentError(`not valid JSON: ${(error as Error).message}`);
  }
}

async function withProducer<T>(config: Config, run: (producer: Producer) => Promise<T>): Promise<T> {
  const redis = createRedis(config.redisUrl, 'producer', 'tickforge-cli');
  redis.on('error', () => undefined);
  const producer = new Producer(redis, config.prefix);
  try {
    await waitForRedis(redis, 5_000).catch(() => {
      throw new Error(`cannot reach Redis at ${config.redisUrl}`);
    });
    return await run(producer);
  } finally {
    await producer.close();
    await closeRedis(redis);
  }
}

/** Enqueues a job and, with `wait`, follows it to the end with a progress bar. */
async function submit(config: Config, name: string, payload: unknown, options: { wait?: boolean; idempotencyKey?: string }) {
  await withProducer(config, async (producer) => {
    const job = await producer.enqueue(name, payload, { idempotencyKey: options.idempotencyKey });
    process.stdout.write(`${JSON.stringify(job)}\n`);
    if (!options.wait) return;
    const result = await waitForJob(producer, config.redisUrl, job.queue, job.id, progressView(`${name} ${job.id}`));
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  });
}

const program = new Command('tickforge')
  .description('tickforge: batch jobs for market data')
  .showHelpAfterError();

program
  .command('migrate')
  .description('create the database if missing and apply pending migrations')
  .option('--rollback', 'undo the last batch of migrations')
  .option('--all', 'with --rollback: undo every migration')
  .action(async (options: { rollback?: boolean; all?: boolean }) => {
    const config = loadConfigOrExit();
    const settings = dbSettings(config);
    if (options.rollback) {
      const reverted = await migrateRollback(settings, options.all);
      process.stdout.write(reverted.length ? `rolled back: ${reverted.join(', ')}\n` : 'nothing to roll back\n');
      return;
    }
    const { created, applied } = await migrateLatest(settings);
    if (created) process.stdout.write(`created database ${new URL(config.databaseUrl).pathname.slice(1)}\n`);
    process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : `schema ${config.dbSchema} is up to date\n`);
  });

program
  .command('enqueue')
  .description('validate and enqueue a job')
  .argument('<job>', `job name: ${[...registry.keys()].join(', ')}`)
  .option('--data <json>', 'the payload as JSON', parseJson, {})
  .option('--idempotency-key <key>', 'enqueueing again with the same key returns the same job')
  .option('--wait', 'wait for the job to finish, showing progress; exit 1 if it fails')
  .action(async (job: string, options: { data: unknown; wait?: boolean; idempotencyKey?: string }) => {
    await submit(loadConfigOrExit(), job, options.data, options);
  });

program
  .command('import-bars')
  .description('import OHLCV bars from a CSV file (path as seen by the workers)')
  .argument('<file>', 'CSV or .csv.gz file')
  .option('--symbol <symbol>', 'the series symbol (omit if the file has a symbol column)')
  .requiredOption('--timeframe <timeframe>', `one of ${TIMEFRAMES.join(' ')}`)
  .option('--time-zone <zone>', 'zone of timestamps without an offset', 'America/New_York')
  .option('--strict', 'store nothing if any row is invalid')
  .option('--wait', 'wait for the import to finish, showing progress')
  .action(
    async (
      file: string,
      options: { symbol?: string; timeframe: string; timeZone: string; strict?: boolean; wait?: boolean },
    ) => {
      const payload = {
        file: path.resolve(file),
        symbol: options.symbol,
        timeframe: options.timeframe,
        timeZone: options.timeZone,
        onInvalid: options.strict ? 'fail' : 'skip',
      };
      await submit(loadConfigOrExit(), 'import-bars' satisfies JobName, payload, options);
    },
  );

program
  .command('aggregate-bars')
  .description('aggregate stored base bars to coarser timeframes (see README "Bars")')
  .option('--symbols <list>', 'comma-separated symbols (default: every symbol with source bars in the range)')
  .option('--source <timeframe>', 'timeframe of the base bars', '1m')
  .option('--targets <list>', 'comma-separated target timeframes (default: all the source allows)')
  .option('--from <when>', 'date (YYYY-MM-DD) or ISO instant')
  .option('--to <when>', 'date (inclusive) or ISO instant (exclusive)')
  .option('--session <mode>', 'regular, extended or 24h', 'regular')
  .option('--alignment <alignment>', 'session or natural', 'session')
  .option('--fill <policy>', 'none or forward', 'none')
  .option('--wait', 'wait for the job to finish, showing progress')
  .action(
    async (options: { symbols?: string; source: string; targets?: string; from?: string; to?: string; session: string; alignment: string; fill: string; wait?: boolean }) => {
      const list = (value?: string) => value?.split(',').map((item) => item.trim()).filter(Boolean);
      const payload = {
        symbols: list(options.symbols),
        source: options.source,
        targets: list(options.targets),
        from: options.from,
        to: options.to,
        session: options.session,
        alignment: options.alignment,
        fill: options.fill,
      };
      await submit(loadConfigOrExit(), 'aggregate-bars' satisfies JobName, payload, options);
    },
  );

program
  .command('warm-cache')
  .description('warm the bars cache with the N most requested queries')
  .option('--top <n>', 'how many of the most requested queries', (value) => Number(value), 100)
  .option('--wait', 'wait for the job to finish')
  .action(async (options: { top: number; wait?: boolean }) => {
    await submit(loadConfigOrExit(), 'warm-cache' satisfies JobName, { top: options.top }, options);
  });

program
  .command('demo')
  .description('migrate, start an in-process worker and API, import sample data through the API and show the results')
  .option('--exit', 'stop when the tour is done instead of serving until Ctrl-C')
  .action(async (options: { exit?: boolean }) => {
    await runDemo(loadConfigOrExit(), { serve: !options.exit && Boolean(process.stdout.isTTY) });
  });

try {
  await program.parseAsync();
} catch (error) {
  if (error instanceof ValidationError) {
    process.stderr.write(`tickforge: ${error.message}\n`);
    process.exitCode = 2;
  } else if (error instanceof UnknownJobError) {
    process.stderr.write(`tickforge: ${error.message}\n`);
    process.exitCode = 2;
  } else if (error instanceof JobFailedError) {
    process.stderr.write(`tickforge: ${error.message}\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`tickforge: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
