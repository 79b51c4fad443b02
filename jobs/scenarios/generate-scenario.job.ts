import { setMaxListeners } from 'node:events';
import { derivableTargets } from '../../src/bars/aggregate.js';
import type { UpsertCounts } from '../../src/bars/bars.repository.js';
import type { Timeframe } from '../../src/bars/timeframes.js';
import type { ScenarioSpec, SymbolResult } from '../../src/scenarios/batch.js';
import { generateScenarioContract } from '../../src/scenarios/generate-scenario.contract.js';
import { resolvePlantings } from '../../src/scenarios/planting.js';
import { GENERATOR_VERSION } from '../../src/scenarios/model.js';
import { scenarioRunId, sessionGrid, syntheticSymbols } from '../../src/scenarios/run.js';
import { summarizeReports } from '../../src/scenarios/validation.js';
import { NYSE } from '../../src/shared/calendar.js';
import { InputError } from '../../src/shared/errors.js';
import { defineHandler } from '../handler.js';

/** Most symbols per pool task for daily runs; 1m runs give each symbol its own task. */
const DAILY_BATCH = 25;

/**
 * generate-scenario: generates, aggregates and validates a named scenario in the pool, then
 * loads its bars into a sandbox schema and records the run and its report, in one transaction.
 */
export const generateScenarioHandler = defineHandler(generateScenarioContract, async (ctx, payload) => {
  const schema = payload.schema ?? ctx.sandboxSchema;
  const refusal = await ctx.store.sandboxRefusal(schema);
  if (refusal) throw new InputError(`cannot load the scenario: ${refusal}`);
  await ctx.store.sandboxes.assertRoomFor(schema, ctx.sandboxSchemaLimit);

  const symbols = payload.symbols ?? syntheticSymbols(payload.count!);
  const targets: Timeframe[] = payload.targets ?? (payload.timeframe === '1m' ? derivableTargets('1m') : []);
  const { grid, first, last, dates } = sessionGrid(payload.start, payload.sessions, NYSE);
  // The schema has checked the plantings against the run; this resolves them to sessions.
  const { plantings } = resolvePlantings(payload.plant, { timeframe: payload.timeframe, sessions: dates });
  const spec: ScenarioSpec = {
    scenario: payload.scenario,
    params: payload.params as unknown as ScenarioSpec['params'],
    seed: payload.seed,
    timeframe: payload.timeframe,
    targets,
    ...(plantings.length > 0 ? { plant: plantings } : {}),
  };
  const runId = scenarioRunId({ spec, symbols, start: first, sessions: payload.sessions, schema });
  ctx.logger.info({ run_id: runId, symbols: symbols.length, schema }, `generating ${payload.scenario} run ${runId}`);

  await ctx.progress(
    2,
    `run ${runId}: ${symbols.length} symbols × ${payload.sessions} sessions (${first} … ${last}) at ${payload.timeframe}`,
  );

  // Small runs get small batches, so every thread has work and progress moves symbol by symbol.
  const batchSize =
    payload.timeframe === '1m' ? 1 : Math.min(DAILY_BATCH, Math.max(1, Math.ceil(symbols.length / (ctx.kernels.maxThreads * 4))));
  const batches: string[][] = [];
  for (let i = 0; i < symbols.length; i += batchSize) batches.push(symbols.slice(i, i + batchSize));
  let generated = 0;
  // Every queued pool task listens on the job's signal: a deliberate fan-out, not a leak.
  setMaxListeners(Math.max(10, batches.length + 10), ctx.signal);
  const outputs = await Promise.all(
    batches.map(async (batch) => {
      const output = await ctx.kernels.run('generateScenario', { spec, symbols: batch, grid }, { signal: ctx.signal });
      generated += batch.length;
      await ctx.progress(2 + (78 * generated) / symbols.length, `generated ${generated} of ${symbols.length} symbols`);
      return output;
    }),
  );
  ctx.signal.throwIfAborted();

  const results: SymbolResult[] = outputs.flatMap((output) => output.symbols);
  const report = summarizeReports(results.map((result) => result.report));
  const series = seriesTotals(results);
  // The schema and its tables are created in the same transaction as the bars, so a run that
  // fails anywhere leaves no schema behind.
  const { counts, replaced, created } = await ctx.store.transaction(async (tx) => {
    const sandbox = tx.forSchema(schema);
    const created = await sandbox.sandbox.ensure(ctx.sandboxSchemaLimit, tx.schema);
    const owners = await sandbox.sandbox.owners(symbols);
    // A symbol last written by another run (or by nothing we know) is replaced whole, so no
    // bar of an earlier, longer or finer run survives beside this one's.
    const replaced = await sandbox.bars.deleteSymbols(symbols.filter((symbol) => owners.get(symbol) !== runId));
    const counts: UpsertCounts = { written: 0, unchanged: 0 };
    for (const output of outputs) {
      const stored = await sandbox.bars.upsertCopy(output.copy);
      counts.written += stored.written;
      counts.unchanged += stored.unchanged;
    }
    await sandbox.sandbox.claim(symbols, runId, payload.scenario);
    await tx.scenarioRuns.upsert({
      id: runId,
      scenario: payload.scenario,
      seed: payload.seed,
      params: payload.params,
      generator_version: GENERATOR_VERSION,
      symbols,
      timeframe: payload.timeframe,
      targets,
      start_date: first,
      sessions: payload.sessions,
      target_schema: schema,
      series,
      passed: report.passed,
      failed_checks: report.failedChecks,
      report,
      diagnostics: results.map((result) => ({ symbol: result.symbol, phases: result.phases, ...result.diagnostics })),
      job_id: ctx.job.id,
    });
    return { counts, replaced, created };
  });
  if (created) await ctx.log(`created sandbox schema ${schema}`);
  await ctx.progress(95, `stored: ${counts.written} bars written, ${counts.unchanged} already stored, ${replaced} replaced`);

  await ctx.events.publish('scenarioLoaded', {
    run_id: runId,
    scenario: payload.scenario,
    seed: payload.seed,
    schema,
    symbols: symbols.length,
    timeframes: series.map((s) => s.timeframe),
    passed: report.passed,
  });
  await ctx.progress(100);
  return {
    runId,
    scenario: payload.scenario,
    seed: payload.seed,
    generatorVersion: GENERATOR_VERSION,
    schema,
    symbols: symbols.length,
    sessions: payload.sessions,
    from: first,
    to: last,
    series,
    ...counts,
    replaced,
    passed: report.passed,
    failedChecks: report.failedChecks,
    checks: report.checks.map((check) => ({
      check: `${check.group}.${check.name}`,
      passed: check.passed,
      passedSymbols: check.passedSymbols,
      symbols: check.symbols,
    })),
  };
});

/** Rows per stored series across all symbols. */
function seriesTotals(results: SymbolResult[]): Array<{ timeframe: Timeframe; variant: string; rows: number }> {
  const totals = new Map<string, { timeframe: Timeframe; variant: string; rows: number }>();
  for (const result of results) {
    for (const series of result.series) {
      const key = `${series.timeframe}/${series.variant}`;
      const total = totals.get(key) ?? { timeframe: series.timeframe, variant: series.variant, rows: 0 };
      total.rows += series.rows;
      totals.set(key, total);
    }
  }
  return [...totals.values()];
}
