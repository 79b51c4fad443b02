import { z } from 'zod';
import { rangeBoundSchema } from '../bars/ranges.js';
import { SESSION_MODES, type SessionMode } from '../bars/sessions.js';
import { timeframeSchema, type Timeframe } from '../bars/timeframes.js';
import { defineContract, STANDARD_DEFAULTS } from '../queues/contract.js';
import { symbolSchema } from '../shared/symbols.js';
import { PATTERN_KEYS, patternKeySchema, type PatternKey } from './catalog.js';

const payloadSchema = z
  .object({
    symbols: z.array(symbolSchema).min(1).max(10_000).optional().describe('symbols to scan'),
    universe: z.string().min(1).max(100).optional().describe("a universe's current members"),
    timeframe: timeframeSchema.default('1d'),
    session: z
      .enum(SESSION_MODES)
      .default('regular')
      .describe("which aggregates to scan where both exist: this session mode's, else the bars stored as they came"),
    from: rangeBoundSchema.optional().describe('first bar to report on (date or instant); default: the first stored bar'),
    to: rangeBoundSchema.optional().describe('date (inclusive) or instant (exclusive); default: after the last stored bar'),
    patterns: z
      .array(patternKeySchema)
      .min(1)
      .max(PATTERN_KEYS.length)
      .optional()
      .describe('pattern keys to detect; default: every pattern'),
  })
  .strict()
  .superRefine((payload, context) => {
    if (payload.symbols !== undefined && payload.universe !== undefined) {
      context.addIssue({ code: 'custom', path: ['universe'], message: 'give symbols or a universe, not both' });
    }
  })
  .transform((payload) => ({ ...payload, patterns: [...new Set(payload.patterns ?? PATTERN_KEYS)] }));

/** What detection did on one symbol. */
export interface DetectSymbolResult {
  symbol: string;
  /** The variant of the series scanned ('' for bars stored as they came). */
  variant: string;
  /** Bars reported on, and bars of history read before them. */
  bars: number;
  history: number;
  detections: number;
  /** Why the symbol has fewer detections than its bars could give, when it does. */
  note?: string;
}

/** What detect-patterns found and stored. */
export interface DetectPatternsResult {
  timeframe: Timeframe;
  session: SessionMode;
  from: string | null;
  to: string | null;
  patterns: PatternKey[];
  /** The detector version each pattern's rows were stored under. */
  versions: Record<string, string>;
  symbols: DetectSymbolResult[];
  /** Detections per pattern key. */
  counts: Record<string, number>;
  totals: { symbols: number; bars: number; detections: number; written: number; removed: number };
  /** Why nothing was scanned, when nothing was. */
  note?: string;
}

/**
 * detect-patterns: runs pattern detectors over stored bars (see docs/patterns.md) and stores
 * one row per detection in pattern_detections under the detector's version.
 */
export const detectPatternsContract = defineContract<DetectPatternsResult>()({
  name: 'detect-patterns',
  queue: 'analytics',
  description: 'Detect candlestick and event patterns in stored bars and store the detections',
  schema: payloadSchema,
  defaults: STANDARD_DEFAULTS,
});
