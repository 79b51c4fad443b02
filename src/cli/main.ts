#!/usr/bin/env node
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { loadConfigOrExit, type Config } from '../shared/config.js';
import { dbSettings, migrateLatest, migrateRollback } from '../shared/db.js';
import { SCENARIO_NAMES } from '../scenarios/catalog.js';
import { TIMEFRAMES } from '../bars/timeframes.js';
import { PUBLIC_JOB_NAMES, type JobName } from '../queues/registry.js';
import { UnknownJobError, ValidationError } from '../shared/errors.js';
import { runDemo } from './demo.js';
import { chartRange, scenarioPayload, writeRunChart, type ScenarioCommandOptions } from './scenario.js';
import { JobFailedError, progressView, waitForJob } from './wait.js';
import { CommanderError } from 'commander';
import { VERSION } from '../shared/version.js';
import { describeUnreachable } from '../shared/health.js';
import { answer, withProducer } from './connect.js';
import { runDev } from './dev.js';
import { OperatorError, addOperatorCommands } from './operator.js';
import { addBackupCommands } from './backup.js';
import { BackupError } from '../backup/backup.js';

function parseJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch (error) {
    throw new InvalidArgumentError(`not valid JSON: ${(error as Error).message}`);
  }
}

/** Whether the command line asked for one JSON document (`--json`, a global option). */
const jsonOutput = () => Boolean(program.opts<{ json?: boolean }>().json);

/**
 * Enqueues a job and, with `wait`, follows it to the end with a progress bar and a line per
 * retry on stderr. Prints the job (and with `wait` its result) on stdout: one JSON document
 * with --json, readable lines otherwise.
 */
async function submit(
  config: Config,
  name: string,
  payload: unknown,
  options: { wait?: boolean; idempotencyKey?: string },
): Promise<unknown> {
  return withProducer(config, async (producer) => {
    const job = await producer.enqueueByName(name, payload, { idempotencyKey: options.idempotencyKey });
    const json = jsonOutput();
    if (!options.wait) {
      answer(json, job, () => [`enqueued ${job.name} ${job.id} on queue ${job.queue}`]);
      return undefined;
    }
    if (!json) process.stdout.write(`enqueued ${job.name} ${job.id} on queue ${job.queue}\n`);
    const notice = (line: string) => process.stderr.write(`${line}\n`);
    try {
      const result = await waitForJob(
        producer,
        config,
        job.queue,
        job.id,
        progressView(`${name} ${job.id}`),
        undefined,
        notice,
      );
      answer(json, { ...job, state: 'completed', result }, () => [JSON.stringify(result, null, 2)]);
      return result;
    } catch (error) {
      if (json && error instanceof JobFailedError) {
        answer(true, { ...job, state: 'failed', failedReason: error.reason }, () => []);
      }
      throw error;
    }
  });
}

const program = new Command('tickforge')
  .description('tickforge: batch jobs for market data')
  .version(VERSION)
  .option('--json', 'print exactly one JSON document on stdout (progress and notices go to stderr)')
  .showHelpAfterError()
  // Usage errors exit 2 (below), not commander's 1.
  .exitOverride();

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
  .argument('<job>', `job name: ${PUBLIC_JOB_NAMES.join(', ')}`)
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
    async (file: string, options: { symbol?: string; timeframe: string; timeZone: string; strict?: boolean; wait?: boolean }) => {
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
  .command('import-futures')
  .description('import futures contracts with their daily bars and open interest from a CSV by contract')
  .argument('<file>', 'CSV or .csv.gz file: contract, contract_month, date, open, high, low, close, volume, open_interest')
  .option('--strict', 'store nothing if any row is invalid')
  .option('--reject-non-session', 'reject rows dated on days that are not sessions instead of merging them into the next session')
  .option('--wait', 'wait for the import to finish, showing progress')
  .action(async (file: string, options: { strict?: boolean; rejectNonSession?: boolean; wait?: boolean }) => {
    const payload = {
      file: path.resolve(file),
      onInvalid: options.strict ? 'fail' : 'skip',
      nonSessionRows: options.rejectNonSession ? 'reject' : 'merge',
    };
    await submit(loadConfigOrExit(), 'import-futures' satisfies JobName, payload, options);
  });

program
  .command('build-continuous')
  .description('build (or rebuild) a continuous futures series and its roll events')
  .argument('<root>', 'futures root, such as ES')
  .requiredOption('--roll <policy>', 'calendar, volume or open_interest')
  .requiredOption('--adjust <method>', 'none, difference or ratio')
  .option(
    '--roll-offset <sessions>',
    'sessions before the last trade date to roll (calendar) or force the roll (default 5)',
    (value) => {
      if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number of sessions');
      return Number(value);
    },
  )
  .option('--wait', 'wait for the build to finish, showing progress')
  .action(async (root: string, options: { roll: string; adjust: string; rollOffset?: number; wait?: boolean }) => {
    const payload = { root, roll: options.roll, adjust: options.adjust, rollOffset: options.rollOffset };
    await submit(loadConfigOrExit(), 'build-continuous' satisfies JobName, payload, options);
  });

program
  .command('import-symbols')
  .description('upsert symbol reference data from a CSV or JSON file (path as seen by the workers); all or nothing')
  .argument('<file>', 'CSV or JSON file, optionally gzip')
  .option('--layout <layout>', 'tickforge, sp500-constituents, us-etfs or auto', 'auto')
  .option('--wait', 'wait for the import to finish, showing progress')
  .action(async (file: string, options: { layout: string; wait?: boolean }) => {
    await submit(
      loadConfigOrExit(),
      'import-symbols' satisfies JobName,
      { file: path.resolve(file), layout: options.layout },
      options,
    );
  });

program
  .command('eod-sync')
  .description('run the end-of-day universe sync for a trading date')
  .argument('<date>', 'an NYSE session, YYYY-MM-DD')
  .option('--wait', 'wait for the sync to finish and print its summary')
  .action(async (date: string, options: { wait?: boolean }) => {
    await submit(loadConfigOrExit(), 'eod-sync' satisfies JobName, { date }, options);
  });

program
  .command('scenario')
  .description('generate a named synthetic scenario into the sandbox schema, with its validation report')
  .argument('<name>', `scenario: ${SCENARIO_NAMES.join(', ')}`)
  .option('--symbols <n|list>', 'how many symbols (SYN0001 …) or a comma-separated list of names', '10')
  .option('--seed <n>', 'seed of the random streams', '42')
  .option('--sessions <n>', 'number of trading sessions', '252')
  .option('--start <date>', 'first session on or after this date (YYYY-MM-DD)')
  .option('--timeframe <tf>', 'generate 1d bars, or 1m bars aggregated to every coarser timeframe', '1d')
  .option('--targets <list>', 'timeframes to aggregate and store (comma-separated)')
  .option('--schema <schema>', 'target schema (default: TICKFORGE_SANDBOX_SCHEMA)')
  .option('--params <json>', "overrides of the scenario's parameters as JSON", parseJson)
  .option('--wait', 'wait for the run, showing progress; exit 1 if the job fails')
  .option('--chart <file.svg>', 'with --wait: write an SVG candlestick chart of one symbol')
  .option('--chart-symbol <symbol>', 'the symbol to chart (default: the first)')
  .option('--chart-timeframe <tf>', 'the timeframe to chart (default: 1d)')
  .option('--chart-from <date|instant>', 'chart from this date or instant (default: the run’s start)')
  .option('--chart-to <date|instant>', 'chart up to this date (inclusive) or instant (default: the run’s end; 1,500 bars at most)')
  .action(async (name: string, options: ScenarioCommandOptions) => {
    const config = loadConfigOrExit();
    if (options.chart && !options.wait) throw new InvalidArgumentError('--chart needs --wait');
    const range = chartRange(options);
    const result = (await submit(config, 'generate-scenario' satisfies JobName, scenarioPayload(name, options), options)) as
      { runId: string; passed: boolean } | undefined;
    if (result && options.chart) {
      const file = await writeRunChart(config, result.runId, options.chart, {
        symbol: options.chartSymbol,
        timeframe: options.chartTimeframe,
        ...range,
      });
      process.stdout.write(`chart written to ${file}\n`);
    }
    if (result && !result.passed)
      process.stderr.write(`tickforge: run ${result.runId} stored, but its validation report failed (see failedChecks)\n`);
  });

program
  .command('aggregate-bars')
  .description('aggregate stored base bars to coarser timeframes (see docs/bars.md)')
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
    async (options: {
      symbols?: string;
      source: string;
      targets?: string;
      from?: string;
      to?: string;
      session: string;
      alignment: string;
      fill: string;
      wait?: boolean;
    }) => {
      const list = (value?: string) =>
        value
          ?.split(',')
          .map((item) => item.trim())
          .filter(Boolean);
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
  .command('export-bars')
  .description('write the bars GET /api/bars answers to an Arrow IPC or Parquet file in TICKFORGE_EXPORT_DIR')
  .argument('<symbols>', 'one symbol or a comma-separated list')
  .requiredOption('--timeframe <timeframe>', `one of ${TIMEFRAMES.join(' ')}`)
  .option('--from <when>', 'date (YYYY-MM-DD) or ISO instant')
  .option('--to <when>', 'date (inclusive) or ISO instant (exclusive)')
  .option('--session <mode>', 'regular, extended or 24h', 'regular')
  .option('--alignment <alignment>', 'session or natural', 'session')
  .option('--fill <policy>', 'none or forward', 'none')
  .option('--format <format>', 'arrow (Arrow IPC file) or parquet', 'arrow')
  .option('--wait', 'wait for the export to finish and print the file it wrote')
  .action(
    async (
      symbols: string,
      options: {
        timeframe: string;
        from?: string;
        to?: string;
        session: string;
        alignment: string;
        fill: string;
        format: string;
        wait?: boolean;
      },
    ) => {
      const list = symbols
        .split(',')
        .map((symbol) => symbol.trim())
        .filter(Boolean);
      const payload = {
        symbols: list.length === 1 ? list[0] : list,
        timeframe: options.timeframe,
        from: options.from,
        to: options.to,
        session: options.session,
        alignment: options.alignment,
        fill: options.fill,
        format: options.format,
      };
      await submit(loadConfigOrExit(), 'export-bars' satisfies JobName, payload, options);
    },
  );

program
  .command('demo')
  .description('migrate, start an in-process worker and API, import sample data through the API and show the results')
  .option('--exit', 'stop when the tour is done instead of serving until Ctrl-C')
  .option('--embedded', 'use an embedded PostgreSQL and a redis-server child even when the configured ones answer')
  .action(async (options: { exit?: boolean; embedded?: boolean }) => {
    await runDemo(loadConfigOrExit(), { serve: !options.exit && Boolean(process.stdout.isTTY), embedded: options.embedded });
  });

program
  .command('dev')
  .description(
    'run worker, web and scheduler in this process until Ctrl-C (starting PostgreSQL and Redis when they do not answer)',
  )
  .option('--embedded', 'use an embedded PostgreSQL and a redis-server child even when the configured ones answer')
  .action(async (options: { embedded?: boolean }) => {
    await runDev(loadConfigOrExit(), options);
  });

addOperatorCommands(program);
addBackupCommands(program);

try {
  await program.parseAsync();
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander has printed the problem (or the help or version asked for).
    const shown = ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code);
    process.exitCode = shown ? 0 : 2;
  } else if (error instanceof ValidationError || error instanceof UnknownJobError || error instanceof InvalidArgumentError) {
    process.stderr.write(`tickforge: ${error.message}\n`);
    process.exitCode = 2;
  } else if (error instanceof JobFailedError || error instanceof OperatorError || error instanceof BackupError) {
    process.stderr.write(`tickforge: ${error.message}\n`);
    process.exitCode = 1;
  } else {
    const config = loadConfigOrExit();
    const unreachable = describeUnreachable(error, config);
    process.stderr.write(`tickforge: ${unreachable ?? (error instanceof Error ? error.message : String(error))}\n`);
    process.exitCode = 1;
  }
}
