import { z } from 'zod';
import type { BarColumns } from '../bars/columns.js';
import type { ScenarioRandom } from './random.js';

/**
 * Version of the generator's algorithms. Any change that alters generated bars for the same
 * (scenario, seed, parameters) bumps it, so a stored run always names the code that made it.
 */
export const GENERATOR_VERSION = '1.0.0';

/** GJR-GARCH(1,1) coefficients and the Student-t degrees of freedom of its shocks. */
export interface GarchParams {
  alpha: number;
  beta: number;
  gamma: number;
  nu: number;
}

/**
 * GJR-GARCH(1,1) defaults: persistence α + β + γ/2 = 0.99 (a volatility shock halves in
 * about 70 sessions), leverage γ, Student-t shocks with 6 degrees of freedom (research §3.1).
 */
export const GARCH_DEFAULTS: GarchParams = { alpha: 0.1, beta: 0.85, gamma: 0.08, nu: 6 };

function garchSchema(defaults: GarchParams) {
  return z
    .object({
      alpha: z.number().min(0).max(0.5).default(defaults.alpha).describe('ARCH weight of the last squared shock'),
      beta: z.number().min(0).max(0.99).default(defaults.beta).describe('GARCH weight of the last variance'),
      gamma: z.number().min(0).max(0.5).default(defaults.gamma).describe('extra weight of negative shocks (GJR leverage)'),
      nu: z.number().min(4.1).max(100).default(defaults.nu).describe('degrees of freedom of the Student-t shocks'),
    })
    .strict()
    .refine((g) => g.alpha + g.beta + g.gamma / 2 < 1, {
      message: 'alpha + beta + gamma/2 must be below 1 (a stationary variance)',
    });
}

/**
 * The zod shape of the parameters every scenario shares (price level, GARCH, gaps, volume);
 * a scenario may change the GARCH defaults.
 */
export const modelParamsShape = (garch: Partial<GarchParams> = {}) => ({
  initialPrice: z.number().min(1).max(1e6).default(100).describe('open of the first session'),
  priceDecimals: z.number().int().min(0).max(6).default(2).describe('prices are rounded to this many decimals'),
  baseVolume: z.number().int().min(100).max(1e10).default(1_000_000).describe('typical daily volume at the reference volatility'),
  garch: garchSchema({ ...GARCH_DEFAULTS, ...garch }).prefault({}),
  overnightGap: z
    .number()
    .min(0)
    .max(0.9)
    .default(0.35)
    .describe('share of the daily standard deviation that falls between close and next open'),
  volumeElasticity: z.number().min(0).max(3).default(0.8).describe('volume ∝ (σ / reference σ) ^ elasticity'),
  volumeShock: z.number().min(0).max(2).default(0.35).describe('volume also rises with the size of the day’s shock'),
  volumeNoise: z.number().min(0).max(1.5).default(0.25).describe('standard deviation of the log-volume noise'),
});

/** The resolved parameters every scenario shares. */
export interface ModelParams {
  initialPrice: number;
  priceDecimals: number;
  baseVolume: number;
  garch: GarchParams;
  overnightGap: number;
  volumeElasticity: number;
  volumeShock: number;
  volumeNoise: number;
}

/** A stretch of sessions with its own volatility level and, optionally, an exact return. */
export interface Phase {
  name: string;
  /** First session index of the phase (inclusive) and the end (exclusive). */
  start: number;
  end: number;
  /** Long-run daily standard deviation of log returns in the phase. */
  dailyVol: number;
  /**
   * Close-to-close log return the phase must produce exactly (the first phase counts from the
   * first session's open). Phases without one keep whatever the noise and pull give.
   */
  logReturn?: number;
}

/** What a scenario asks of the generator for one symbol. */
export interface DailyPlan {
  phases: Phase[];
  /**
   * Mean reversion of the log price toward an anchor path (log units relative to the first
   * open; 0 when absent): each session closes (1 − phi) of the gap, plus the anchor's move.
   */
  reversion?: { phi: number; anchor?: Float64Array };
  /** Phases rescaled to exactly their own volatility (the rest share one factor). */
  exactVolatility?: string[];
  /** Exact close log return over all sessions (from the first open), spread evenly. */
  totalLogReturn?: number;
  /** Lands the maximum drawdown of closes (a fraction, −0.35) by moving this phase's return. */
  drawdown?: { phase: string; target: number };
  /** Lands the trading range max(high) / min(low) − 1 by scaling the whole log path. */
  tradingRange?: number;
  /** Daily σ at which volume equals baseVolume on average. */
  referenceVol: number;
}

/** One measured property of a generated series, with its verdict. */
export interface Check {
  name: string;
  passed: boolean;
  /** The figure measured on the bars (null when it cannot be computed). */
  measured: number | null;
  /** What the check requires, in words a reader can verify (`within [-0.40, -0.30]`). */
  expected: string;
  detail?: string;
}

/** What a scenario's target and indicator checks get to look at. */
export interface SeriesView {
  /** Daily bars (generated directly, or aggregated from 1m). */
  daily: BarColumns;
  /** Phase boundaries in daily-bar indices. */
  phases: Phase[];
  /** Close-to-close log returns; returns[i] is from close i to close i+1 (length n − 1). */
  returns: Float64Array;
}

/**
 * One named scenario: its parameters (every one has a default), how it plans a symbol's
 * path, and what it promises about the result.
 */
export interface ScenarioDefinition<Params extends ModelParams = ModelParams> {
  name: string;
  description: string;
  params: z.ZodType<Params, unknown>;
  /** Fewest sessions the scenario needs to show its shape. */
  minSessions: number;
  plan(params: Params, sessions: number, random: ScenarioRandom): DailyPlan;
  /**
   * Whether a drawn path shows a statistical promise that drift correction cannot land (a
   * clustering strength, a number of trend changes), judged on its daily log closes. A path
   * that does not is redrawn from the symbol's next sub-stream.
   */
  accept?(logCloses: Float64Array, params: Params): boolean;
  /** The targets the scenario promises, measured on the bars. */
  targets(view: SeriesView, params: Params): Check[];
  /** Cross-checks computed with an independent technical-analysis library. */
  indicators(view: SeriesView, params: Params): Check[];
}

/** Splits `sessions` into consecutive phases by shares (they need not sum to exactly 1). */
export function phasesByShare(
  sessions: number,
  parts: Array<{ name: string; share: number; dailyVol: number; logReturn?: number }>,
): Phase[] {
  const total = parts.reduce((sum, part) => sum + part.share, 0);
  const phases: Phase[] = [];
  let cumulative = 0;
  let start = 0;
  parts.forEach((part, index) => {
    cumulative += part.share;
    const end = index === parts.length - 1 ? sessions : Math.round((sessions * cumulative) / total);
    phases.push({ name: part.name, start, end: Math.max(end, start + 1), dailyVol: part.dailyVol, logReturn: part.logReturn });
    start = phases[phases.length - 1].end;
  });
  return phases;
}

/** Finds a phase by name; scenarios call it for phases they defined. */
export function phaseNamed(phases: Phase[], name: string): Phase {
  const phase = phases.find((p) => p.name === name);
  if (!phase) throw new Error(`no phase ${name}`);
  return phase;
}

/** An annualised volatility parameter with its default. */
export const volatilityParam = (fallback: number, what = 'annualised volatility') =>
  z.number().min(0.02).max(1.5).default(fallback).describe(what);

/** A mean-reversion strength: the share of a deviation from `towards` pulled back within 10 sessions. */
export const meanReversionParam = (fallback: number, towards: string) =>
  z
    .number()
    .min(0)
    .max(0.99)
    .default(fallback)
    .describe(`share of a deviation from ${towards} that is pulled back within 10 sessions`);

/** The per-session persistence φ of a deviation of which `share` is pulled back within 10 sessions. */
export const reversionPhi = (share: number) => Math.pow(1 - share, 1 / 10);

/** Daily standard deviation of an annualised volatility (252 sessions a year). */
export const annualToDaily = (annual: number) => annual / Math.sqrt(252);
