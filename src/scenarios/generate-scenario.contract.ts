import { z } from 'zod';
import { canDerive, derivableTargets } from '../bars/aggregate.js';
import { timeframeSchema, type Timeframe } from '../bars/timeframes.js';
import { defineContract, STANDARD_DEFAULTS } from '../queues/contract.js';
import { calendarDateSchema } from '../shared/dates.js';
import { symbolSchema } from '../shared/symbols.js';
import { BASE_TIMEFRAMES } from './batch.js';
import { SCENARIO_NAMES, scenarioDefinition } from './catalog.js';
import { MAX_PLANTINGS, plantingSchema, resolvePlantings } from './planting.js';
import { sessionGrid, syntheticSymbols } from './run.js';

/** Most symbols one run generates. */
export const MAX_SCENARIO_SYMBOLS = 5_000;
/** Most sessions one run covers (ten years). */
export const MAX_SCENARIO_SESSIONS = 2_520;
/** Most symbol-sessions of a 1m run (ten symbol-years, about a million minute bars). */
export const MAX_MINUTE_SYMBOL_SESSIONS = 2_520;

/** The name of a schema scenario bars may go to. */
export const sandboxNameSchema = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier (letters, digits, _)');

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
    schema: sandboxNameSchema.optional().describe('target schema; the sandbox schema by default'),
    params: z.record(z.string(), z.unknown()).default({}).describe("overrides of the scenario's parameters"),
    plant: z
      .array(plantingSchema)
      .max(MAX_PLANTINGS)
      .default([])
      .describe('patterns to draw into the daily bars at chosen sessions (docs/patterns.md)'),
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
      const { dates } = sessionGrid(payload.start, payload.sessions);
      const run = {
        timeframe: payload.timeframe,
        sessions: dates,
        symbols: payload.symbols ?? syntheticSymbols(payload.count ?? 0),
      };
      for (const issue of resolvePlantings(payload.plant, run).issues) ctx.addIssue({ code: 'custom', ...issue });
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

/** What generate-scenario stored and how its validation report came out. */
export interface GenerateScenarioResult {
  runId: string;
  scenario: string;
  seed: number;
  generatorVersion: string;
  schema: string;
  symbols: number;
  sessions: number;
  from: string;
  to: string;
  /** Rows per stored series across all symbols. */
  series: Array<{ timeframe: Timeframe; variant: string; rows: number }>;
  written: number;
  unchanged: number;
  replaced: number;
  passed: boolean;
  failedChecks: string[];
  checks: Array<{ check: string; passed: boolean; passedSymbols: number; symbols: number }>;
}

/**
 * generate-scenario: generates, aggregates and validates a named scenario in the pool, then
 * loads its bars into a sandbox schema and records the run and its report.
 */
export const generateScenarioContract = defineContract<GenerateScenarioResult>()({
  name: 'generate-scenario',
  queue: 'scenario',
  description: 'Generate a named synthetic market scenario, validate it and load it into a sandbox schema',
  schema: payloadSchema,
  defaults: STANDARD_DEFAULTS,
});
