import { z } from 'zod';
import { defineContract, STANDARD_DEFAULTS } from '../queues/contract.js';
import { symbolSchema } from '../shared/symbols.js';
import { canDerive, derivableTargets } from './aggregate.js';
import type { TimeframeCount } from './aggregate-chunk.task.js';
import type { GapReport } from './gaps.js';
import { rangeBoundSchema } from './ranges.js';
import { ALIGNMENTS, SESSION_MODES, type Alignment, type SessionMode } from './sessions.js';
import { TIMEFRAMES, timeframeSchema, type Timeframe } from './timeframes.js';

/** Base bars read per round trip by default: about a year of one symbol's regular-session minutes. */
export const PAGE_ROWS = 100_000;

const payloadSchema = z
  .object({
    symbols: z
      .union([symbolSchema, z.array(symbolSchema).min(1).max(10_000)])
      .optional()
      .describe('one symbol or a list; omitted: every symbol with source bars in the range'),
    source: timeframeSchema.default('1m').describe('timeframe of the base bars'),
    sourceVariant: z.string().max(64).default('').describe("variant of the base series; '' (stored as they came) by default"),
    targets: z
      .array(timeframeSchema)
      .min(1)
      .max(TIMEFRAMES.length)
      .optional()
      .describe('timeframes to build; default every one the source allows'),
    from: rangeBoundSchema.optional().describe('date or instant; default: the day of the first stored base bar'),
    to: rangeBoundSchema
      .optional()
      .describe('date (inclusive) or instant (exclusive); default: the end of the day of the last stored base bar'),
    session: z.enum(SESSION_MODES).default('regular'),
    alignment: z.enum(ALIGNMENTS).default('session'),
    fill: z
      .enum(['none', 'forward'])
      .default('none')
      .describe('forward: store fill bars (source fill) in missing intraday slots'),
    pageRows: z
      .number()
      .int()
      .min(1_000)
      .max(1_000_000)
      .default(PAGE_ROWS)
      .describe('base bars read per round trip (memory per symbol)'),
  })
  .strict()
  .superRefine((payload, context) => {
    for (const [i, target] of (payload.targets ?? []).entries()) {
      if (!canDerive(payload.source, target)) {
        context.addIssue({
          code: 'custom',
          path: ['targets', i],
          message: `${target} cannot be built from ${payload.source}; from ${payload.source}: ${derivableTargets(payload.source).join(', ') || 'nothing'}`,
        });
      }
    }
    if (!payload.targets && derivableTargets(payload.source).length === 0) {
      context.addIssue({ code: 'custom', path: ['source'], message: `nothing can be built from ${payload.source} bars` });
    }
  });

/** Per symbol: what was read, built and written, and the gaps of the base series. */
export interface AggregateSymbolResult {
  symbol: string;
  from?: string;
  to?: string;
  sourceBars: number;
  /**
   * Base bars left out because they fall outside the calendar's years (before its first year):
   * how many, the first and last of them, and the calendar's range.
   */
  outsideCalendar?: { bars: number; first: string; last: string; calendar: string };
  timeframes: Partial<Record<Timeframe, TimeframeCount>>;
  written: number;
  unchanged: number;
  gaps: GapReport;
  /** Why nothing was read, when a named symbol has no base bars in the range (and others do). */
  note?: string;
}

/** What aggregate-bars did, per symbol and in total. */
export interface AggregateBarsResult {
  source: Timeframe;
  targets: Timeframe[];
  session: SessionMode;
  alignment: Alignment;
  fill: 'none' | 'forward';
  symbols: AggregateSymbolResult[];
  totals: { symbols: number; sourceBars: number; written: number; unchanged: number; missing: number };
}

/**
 * aggregate-bars: coarser bars built from stored base bars for one, many or all symbols (see
 * docs/bars.md for the semantics and the variant naming).
 */
export const aggregateBarsContract = defineContract<AggregateBarsResult>()({
  name: 'aggregate-bars',
  queue: 'aggregate',
  description: 'Aggregate stored base bars to coarser timeframes (session-aligned), with gap report and optional forward fill',
  schema: payloadSchema,
  defaults: STANDARD_DEFAULTS,
});
