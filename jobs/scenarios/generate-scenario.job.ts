import { setMaxListeners } from 'node:events';
import { UnrecoverableError } from 'bullmq';
import { z } from 'zod';
import { BarsRepository, type UpsertCounts } from '../../src/bars/bars.repository.js';
import { SandboxRepository, sandboxRefusal } from '../../src/scenarios/sandbox.repository.js';
import { ScenarioRunsRepository } from '../../src/scenarios/runs.repository.js';
import { canDerive, derivableTargets } from '../../src/bars/aggregate.js';
import { NYSE } from '../../src/shared/calendar.js';
import { BASE_TIMEFRAMES, type ScenarioSpec, type SymbolResult } from '../../src/scenarios/batch.js';
import { SCENARIO_NAMES, scenarioDefinition } from '../../src/scenarios/catalog.js';
import { GENERATOR_VERSION } from '../../src/scenarios/model.js';
import { scenarioRunId, sessionGrid, syntheticSymbols } from '../../src/scenarios/run.js';
import { summarizeReports } from '../../src/scenarios/validation.js';
import { symbolSchema } from '../../src/shared/symbols.js';
import { timeframeSchema, type Timeframe } from '../../src/bars/timeframes.js';
import { calendarDateSchema } from '../../src/shared/dates.js';
import { CHANNELS } from '../../src/notify/channels.js';
import { STANDARD_DEFAULTS, defineJob } from '../define.js';

/** Most symbols one run generates. */
export const MAX_SCENARIO_SYMBOLS = 5_000;
/** Most sessions one run covers (ten years). */
export const MAX_SCENARIO_SESSIONS = 2_520;
/** Most symbol-sessions of a 1m run (ten symbol-years, about a million minute bars). */
export const MAX_MINUTE_SYMBOL_SESSIONS = 2_520;
/** Most symbols per pool task for daily runs; 1m runs give each symbol its own task. */
const DAILY_BATCH = 25;

const payloadSchema = z
  .object({
    scenario: z.enum(SCENARIO_NAMES, { message: `must be one of ${SCENARIO_NAMES.join(', ')}` }),
    symbols: z.array(symbolSchema).min(1).max(MAX_SCENARIO_SYMBOLS).optional().describe('names of the symbols to generate'),
    count: z.number().int().min(1).max(MAX_SCENARIO_SYMBOLS).optional().describe('generate SYN0001 … SYN<count>'),
    seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(42),
    sessions: z.number().int().min(20).max(MAX_SCENARIO_SESSIONS).default(252),
    start: calendarDateSchema.default('2020-01-01').describe('first session on or after this date'),
    timeframe: z.enum(BASE_TIMEFRAMES, { message: `must be ${BASE_TIMEFRAMES.join(' or ')}` }).default('1d'),
    targets: z.array(timeframeSchema).max(13).optional().describe('timeframes aggregated and stored too'),
    schema: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier (letters, digits, _)')
      .optional()
      .describe('target schema; the sandbox schema by default'),
    params: z.record(z.string(), z.unknown()).default({}).describe("overrides of the scenario's parameters"),
  })
  .strict()
  .superRefine((payload, ctx) => {
    if ((payload.symbols === undefined) === (payload.count === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['symbols'], message: 'give exactly one of symbols or count' });
    }
    if (payload.symbols && new Set(payload.symbols).size !== payload.symbols.length) {
      ctx.addIssue({ code: 'custom', path: ['symbols'], message: 'must not repeat a symbol' });
    }
    for (const [index, target] of (payload.targets ?? []).entries()) {
      if (!canDerive(payload.timeframe, target)) {
        ctx.addIssue({
          code: 'custom',
          path: ['targets', index],
          message: `cannot be aggregated from ${payload.timeframe}; choose from ${derivableTargets(payload.timeframe).join(', ')}`,
        });
      }
    }
    const definition = scenarioDefinition(payload.scenario);
    if (payload.sessions < definition.minSessions) {
      ctx.addIssue({
        code: 'custom',
        path: ['sessions'],
        message: `${payload.scenario} needs at least ${definition.minSessions} sessions`,
      });
    }
    const symbolCount = payload.symbols?.length ?? payload.count ?? 0;
    if (payload.timeframe === '1m' && symbolCount * payload.sessions > MAX_MINUTE_SYMBOL_SESSIONS) {
      ctx.addIssue({
        code: 'custom',
        path: ['sessions'],
        message: `a 1m run may cover at most ${MAX_MINUTE_SYMBOL_SESSIONS} symbol-sessions (symbols × sessions); this one asks for ${symbolCount * payload.sessions}`,
      });
    }
    try {
      sessionGrid(payload.start, payload.sessions);
    } catch (error) {
      ctx.addIssue({ code: 'custom', path: ['start'], message: (error as Error).message });
    }
    const params = definition.params.safeParse(payload.params);
    if (!params.success) {
      for (const issue of params.error.issues) {
        ctx.addIssue({ code: 'custom', path: ['params', ...issue.path.map(String)], message: issue.message });
      }
    }
  })
  .transform((payload) => ({
    ...payload,
    params: scenarioDefinition(payload.scenario).params.parse(payload.params) as unknown as Record<string, unknown>,
  }));

/** What a caller passes to enqueue generate-scenario. */
export type GenerateScenarioPayload = z.input<typeof payloadSchema>;

/**
 * generate-scenario: generates, aggregates and validates a named scenario in the pool, then
 * loads its bars into a sandbox schema and records the run and its report, in one transaction.
 */
export const generateScenarioJob = defineJob({
  name: 'generate-scenario',
  queue: 'scenario',
  description: 'Generate a named synthetic market scenario, validate it and load it into a sandbox schema',
  schema: payloadSchema,
  defaults: STANDARD_DEFAULTS,
  async handle(ctx, payload) {
    const schema = payload.schema ?? ctx.sandboxSchema;
    const refusal = await sandboxRefusal(ctx.db, schema, ctx.schema);
    if (refusal) throw new UnrecoverableError(`cannot load the scenario: ${refusal}`);

    const symbols = payload.symbols ?? syntheticSymbols(payload.count!);
    const targets: Timeframe[] = payload.targets ?? (payload.timeframe === '1m' ? derivableTargets('1m') : []);
    const spec: ScenarioSpec = {
      scenario: payload.scenario,
      params: payload.params as unknown as ScenarioSpec['params'],
      seed: payload.seed,
      timeframe: payload.timeframe,
      targets,
    };
    const { grid, first, last } = sessionGrid(payload.start, payload.sessions, NYSE);
    const runId = scenarioRunId({ spec, symbols, start: first, sessions: payload.sessions, schema });
    ctx.logger.info({ run_id: runId, symbols: symbols.length, schema }, `generating ${payload.scenario} run ${runId}`);

    const sandbox = new SandboxRepository(ctx.db, schema);
    if (await sandbox.ensure()) await ctx.log(`created sandbox schema ${schema}`);
    await ctx.progress(
      2,
      `run ${runId}: ${symbols.length} symbols × ${payload.sessions} sessions (${first} … ${last}) at ${payload.timeframe}`,
    );

    // Small runs get small batches, so every thread has work and progress moves symbol by symbol.
    const batchSize =
      payload.timeframe === '1m' ? 1 : Math.min(DAILY_BATCH, Math.max(1, Math.ceil(symbols.length / (ctx.pool.maxThreads * 4))));
    const batches: string[][] = [];
    for (let i = 0; i < symbols.length; i += batchSize) batches.push(symbols.slice(i, i + batchSize));
    let generated = 0;
    // Every queued pool task listens on the job's signal: a deliberate fan-out, not a leak.
    setMaxListeners(Math.max(10, batches.length + 10), ctx.signal);
    const outputs = await Promise.all(
      batches.map(async (batch) => {
        const output = await ctx.pool.run('generateScenario', { spec, symbols: batch, grid }, { signal: ctx.signal });
        generated += batch.length;
        await ctx.progress(2 + (78 * generated) / symbols.length, `generated ${generated} of ${symbols.length} symbols`);
        return output;
      }),
    );
    ctx.signal.throwIfAborted();

    const results: SymbolResult[] = outputs.flatMap((output) => output.symbols);
    const report = summarizeReports(results.map((result) => result.report));
    const series = seriesTotals(results);
    const bars = new BarsRepository(ctx.db, schema);
    const runs = new ScenarioRunsRepository(ctx.db);
    const { counts, replaced } = await ctx.db.transaction(async (trx) => {
      await sandbox.lock(trx);
      const owners = await sandbox.owners(trx, symbols);
      // A symbol last written by another run (or by nothing we know) is replaced whole, so no
      // bar of an earlier, longer or finer run survives beside this one's.
      const replaced = await sandbox.clearBars(
        trx,
        symbols.filter((symbol) => owners.get(symbol) !== runId),
      );
      const counts: UpsertCounts = { written: 0, unchanged: 0 };
      for (const output of outputs) {
        const stored = await bars.upsertCopy(trx, output.copy);
        counts.written += stored.written;
        counts.unchanged += stored.unchanged;
      }
      await sandbox.claim(trx, symbols, runId, payload.scenario);
      await runs.upsert(trx, {
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
      return { counts, replaced };
    });
    await ctx.progress(95, `stored: ${counts.written} bars written, ${counts.unchanged} already stored, ${replaced} replaced`);

    await ctx.publisher.publish(
      CHANNELS.scenarioLoaded,
      {
        run_id: runId,
        scenario: payload.scenario,
        seed: payload.seed,
        schema,
        symbols: symbols.length,
        timeframes: series.map((s) => s.timeframe),
        passed: report.passed,
      },
      ctx.job.id,
    );
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
  },
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
