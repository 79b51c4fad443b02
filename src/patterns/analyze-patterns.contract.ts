import { z } from 'zod';
import { STANDARD_DEFAULTS, defineContract } from '../queues/contract.js';
import { analysisSettingsSchema } from './analytics-dataset.js';
import { analysisScopeSchema } from './analytics-scope.js';

/** What analyze-patterns did. */
export interface AnalyzePatternsResult {
  /** The stored analysis, or null when the scope had no detection (see `note`). */
  analysisId: number | null;
  asOf: string | null;
  detections: number;
  /** Outcomes labelled or relabelled before the analysis. */
  labelled: number;
  /** Sessions of benchmark context written. */
  contextSessions: number;
  note?: string;
  ms: number;
}

/**
 * analyze-patterns: brings market context and outcomes up to date, then analyses the scope's
 * detections (correlations, regime impact, seasonality, the success model) and stores the
 * results the /api/analytics routes serve, with the analysis' as-of date.
 */
export const analyzePatternsContract = defineContract<AnalyzePatternsResult>()({
  name: 'analyze-patterns',
  queue: 'analytics',
  description: 'Label pattern outcomes, update market context and store the pattern analytics of a scope',
  schema: analysisScopeSchema
    .extend({
      benchmark: z.string().min(1).default('SPY').describe('symbol whose daily closes define the trend and volatility regimes'),
      successHorizon: z
        .union([z.literal(1), z.literal(5), z.literal(20)])
        .default(5)
        .describe('bars after a detection whose forward return decides success'),
      successThreshold: z.number().min(0).max(1).default(0).describe("return to exceed in the pattern's direction (0.01 = 1 %)"),
      settings: analysisSettingsSchema.default(analysisSettingsSchema.parse({})),
    })
    .strict()
    .refine((payload) => !(payload.universe && payload.symbols), {
      message: 'give universe or symbols, not both',
      path: ['symbols'],
    })
    .refine((payload) => !payload.from || !payload.to || payload.from <= payload.to, {
      message: 'from must not be after to',
      path: ['from'],
    }),
  defaults: { ...STANDARD_DEFAULTS, attempts: 2 },
});
