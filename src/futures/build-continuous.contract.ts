import { z } from 'zod';
import { defineContract, STANDARD_DEFAULTS } from '../queues/contract.js';
import type { HeldGap, RollEvent } from './adjust.js';
import {
  ADJUSTMENTS,
  DEFAULT_ROLL_OFFSET,
  ROLL_POLICIES,
  ROOT_PATTERN,
  type Adjustment,
  type RollPolicy,
} from './contract-codes.js';

export const rollPolicySchema = z.enum(ROLL_POLICIES).describe('calendar, volume or open_interest');
export const adjustmentSchema = z.enum(ADJUSTMENTS).describe('none, difference or ratio');
export const rollOffsetSchema = z
  .number()
  .int('must be a whole number of sessions')
  .min(0)
  .max(60)
  .describe('sessions before the last trade date (or first notice date) at which the roll happens or is forced');

export const rootSchema = z.string().regex(ROOT_PATTERN, 'must be a futures root: 1-4 upper-case letters or digits, such as ES');

/** What a build found besides the bars: the window, holdings, gaps and data problems. */
export interface ContinuousReport {
  window: { from: string; to: string; sessions: number };
  held: Array<{ contract: string; bars: number }>;
  rollsWithIssues: number;
  gapCount: number;
  gapSessions: number;
  gaps: HeldGap[];
  /** Open-interest policy only: the sessions on which volume decided because open interest was missing. */
  openInterestFallback?: { sessions: number; first: string | null; last: string | null };
  missingContracts: Array<{ after: string; before: string; missing: string[] }>;
  offSessionBars: Array<{ contract: string; date: string }>;
}

/** What build-continuous stored: the series, its rolls and its report. */
export interface BuildContinuousResult extends ContinuousReport {
  series: string;
  root: string;
  roll: RollPolicy;
  rollOffset: number;
  adjust: Adjustment;
  bars: number;
  replaced: number;
  from: string | null;
  to: string | null;
  rolls: RollEvent[];
}

/** build-continuous: (re)builds a continuous futures series with its roll events from the stored contracts. */
export const buildContinuousContract = defineContract<BuildContinuousResult>()({
  name: 'build-continuous',
  queue: 'futures',
  description: 'Build (or rebuild) a continuous futures series with its roll events from the stored contracts',
  schema: z
    .object({
      root: rootSchema,
      roll: rollPolicySchema,
      rollOffset: rollOffsetSchema.default(DEFAULT_ROLL_OFFSET),
      adjust: adjustmentSchema,
    })
    .strict(),
  defaults: STANDARD_DEFAULTS,
});
