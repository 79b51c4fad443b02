import { barProblem, type BarColumns } from '../bars/columns.js';
import { isOnGrid, type Timeframe } from '../bars/timeframes.js';
import { atLeast, atMost } from './checks.js';
import type { Check, ModelParams, Phase, ScenarioDefinition, SeriesView } from './model.js';
import {
  autocorrelation,
  correlation,
  excessKurtosis,
  logReturns,
  maxDrawdown,
  mean,
  roundTo,
  standardDeviation,
} from '../shared/statistics.js';

const ZONE = 'America/New_York';

/**
 * Daily returns standardised by their phase: less the phase's mean return, over the
 * volatility the phase was planned with. Phases are regimes with different drifts and
 * volatility levels by design (a crash, an up leg); the stylized facts concern the noise
 * around them. Without this, a shift in the mean shows up as autocorrelation of returns, and
 * the few violent sessions of a crash outweigh the hundreds of calm ones in every estimate.
 * Dividing by the planned (not the measured) volatility keeps clustering that spans phases.
 */
export function standardiseByPhase(returns: Float64Array, phases: Phase[]): Float64Array {
  const out = new Float64Array(returns.length);
  for (const phase of phases) {
    // returns[i] belongs to session i + 1.
    const start = Math.max(0, phase.start - 1);
    const end = Math.min(returns.length, phase.end - 1);
    if (end - start < 2) continue;
    const centre = mean(returns, start, end);
    for (let i = start; i < end; i++) out[i] = (returns[i] - centre) / phase.dailyVol;
  }
  return out;
}

/**
 * Thresholds of the stylized-fact checks on one symbol's daily returns (about 250 of them):
 * - returns: no autocorrelation over lags 1–10 that is significant at 1 % overall, each lag
 *   judged by its heteroskedasticity-robust standard error √(Σ x²ₜx²ₜ₋ₖ) / Σ x²ₜ (volatility
 *   clustering makes the textbook 1/√n far too small) against z = 3.29 (0.1 % per lag, Bonferroni);
 * - |returns|: the mean ACF over lags 1–20 is positive (clustering), and no lag is below
 *   −3.29/√n (none significantly negative);
 * - excess kurtosis > 0 (fat tails), corr(volume, |return|) > 0.2.
 */
export const STYLIZED_THRESHOLDS = {
  returnLags: 10,
  absLags: 20,
  criticalZ: 3.29,
  minVolumeCorrelation: 0.2,
} as const;

/** The largest |ACF(k)| over its robust standard error, k = 1 … lags. */
export function maxRobustAutocorrelationZ(values: Float64Array, lags: number): number {
  const centre = mean(values);
  const x = values.map((v) => v - centre);
  let denominator = 0;
  for (const v of x) denominator += v * v;
  let worst = 0;
  for (let k = 1; k <= lags; k++) {
    let numerator = 0;
    let squares = 0;
    for (let t = k; t < x.length; t++) {
      numerator += x[t] * x[t - k];
      squares += x[t] * x[t] * x[t - k] * x[t - k];
    }
    if (squares > 0) worst = Math.max(worst, Math.abs(numerator) / Math.sqrt(squares));
  }
  return denominator > 0 ? worst : NaN;
}

/** The report of one symbol: each group of checks and a few descriptive figures. */
export interface SymbolReport {
  symbol: string;
  passed: boolean;
  targets: Check[];
  stylizedFacts: Check[];
  indicators: Check[];
  invariants: Check[];
  figures: {
    sessions: number;
    firstOpen: number;
    lastClose: number;
    totalReturn: number;
    maxDrawdown: number;
    annualisedVolatility: number;
    meanVolume: number;
  };
}

/** The groups of checks in a symbol's report, in report order. */
export const CHECK_GROUPS = ['targets', 'invariants', 'stylizedFacts', 'indicators'] as const;
export type CheckGroup = (typeof CHECK_GROUPS)[number];

/** Stored bars of one timeframe, checked for invariants. */
export interface TimeframeBars {
  timeframe: Timeframe;
  bars: BarColumns;
}

/**
 * The stylized facts (Cont 2001) that any realistic series shows: autocorrelations and tails
 * on daily returns standardised within their phase, the volume link on the raw returns.
 * `volume` is the daily volume (volume[i + 1] belongs to returns[i]).
 */
export function stylizedFacts(raw: Float64Array, phases: Phase[], volume: ArrayLike<number>): Check[] {
  const returns = standardiseByPhase(raw, phases);
  const n = returns.length;
  const standardError = 1 / Math.sqrt(n);
  const returnAcf = lagsOf(returns, STYLIZED_THRESHOLDS.returnLags);
  const absolute = returns.map(Math.abs);
  const rawAbsolute = raw.map(Math.abs);
  const absAcf = lagsOf(absolute, STYLIZED_THRESHOLDS.absLags);
  const absMean = absAcf.reduce((sum, value) => sum + value, 0) / absAcf.length;
  const absLowest = Math.min(...absAcf);
  const sessionVolume = Float64Array.from({ length: n }, (_, i) => volume[i + 1]);
  const floor = -STYLIZED_THRESHOLDS.criticalZ * standardError;
  return [
    atMost(
      'returnAutocorrelation',
      maxRobustAutocorrelationZ(returns, STYLIZED_THRESHOLDS.returnLags),
      STYLIZED_THRESHOLDS.criticalZ,
      {
        strict: true,
        detail: `largest |ACF| over its robust standard error, lags 1-${STYLIZED_THRESHOLDS.returnLags}; ACF: ${returnAcf.map((v) => roundTo(v, 2)).join(' ')}`,
      },
    ),
    atLeast('absReturnAutocorrelation', absMean, 0, {
      strict: true,
      detail: `mean ACF of |returns| over lags 1-${STYLIZED_THRESHOLDS.absLags}: ${absAcf.map((v) => roundTo(v, 2)).join(' ')}`,
    }),
    atLeast('absReturnAutocorrelationFloor', absLowest, floor, {
      detail: `lowest ACF of |returns| over lags 1-${STYLIZED_THRESHOLDS.absLags} (none significantly negative)`,
    }),
    atLeast('excessKurtosis', excessKurtosis(returns), 0, {
      strict: true,
      detail: 'of daily log returns standardised within their phase',
    }),
    atLeast('volumeVolatilityCorrelation', correlation(sessionVolume, rawAbsolute), STYLIZED_THRESHOLDS.minVolumeCorrelation, {
      strict: true,
      detail: 'correlation of session volume with the session’s |return|',
    }),
  ];
}

function lagsOf(values: Float64Array, lags: number): number[] {
  return Array.from({ length: lags }, (_, k) => autocorrelation(values, k + 1));
}

/**
 * The hard invariants of every stored bar: low ≤ min(open, close) ≤ max(open, close) ≤ high,
 * low > 0, whole non-negative volume, ts on the timeframe's grid and strictly ascending.
 */
export function invariantChecks(series: TimeframeBars[]): Check[] {
  let ohlc = 0;
  let positive = 0;
  let volume = 0;
  let grid = 0;
  let order = 0;
  let total = 0;
  const examples: string[] = [];
  const note = (timeframe: Timeframe, ts: number, reason: string) => {
    if (examples.length < 3) examples.push(`${timeframe} ${new Date(ts).toISOString()}: ${reason}`);
  };
  for (const { timeframe, bars } of series) {
    total += bars.ts.length;
    for (let i = 0; i < bars.ts.length; i++) {
      const problem = barProblem(bars.open[i], bars.high[i], bars.low[i], bars.close[i], bars.volume[i]);
      if (problem) {
        ohlc++;
        note(timeframe, bars.ts[i], problem);
      }
      if (!(bars.low[i] > 0)) {
        positive++;
        note(timeframe, bars.ts[i], `low ${bars.low[i]} is not positive`);
      }
      if (!Number.isInteger(bars.volume[i]) || bars.volume[i] < 0) {
        volume++;
        note(timeframe, bars.ts[i], `volume ${bars.volume[i]} is not a whole number ≥ 0`);
      }
      const off =
        timeframe === '1m' ? (bars.ts[i] % 60_000 === 0 ? undefined : 'not on a minute') : isOnGrid(bars.ts[i], timeframe, ZONE);
      if (off) {
        grid++;
        note(timeframe, bars.ts[i], off);
      }
      if (i > 0 && !(bars.ts[i] > bars.ts[i - 1])) {
        order++;
        note(timeframe, bars.ts[i], 'not after the bar before it');
      }
    }
  }
  const detail = `${total} bars in ${series.map((s) => s.timeframe).join(', ')}${examples.length ? `; e.g. ${examples.join('; ')}` : ''}`;
  return [
    atMost('ohlcConsistent', ohlc, 0, { detail }),
    atMost('pricesPositive', positive, 0),
    atMost('volumeWholeNonNegative', volume, 0),
    atMost('tsOnGrid', grid, 0),
    atMost('tsAscending', order, 0),
  ];
}

/** What validateSeries measures: a symbol's daily bars, phases and every stored series. */
export interface ValidateInput {
  scenario: ScenarioDefinition;
  params: ModelParams;
  symbol: string;
  /** The daily bars (1d, generated or aggregated). */
  daily: BarColumns;
  phases: Phase[];
  /** Every timeframe that will be stored, for the invariants. */
  stored: TimeframeBars[];
}

/** Measures a symbol's bars against its scenario's promises, the stylized facts and the invariants. */
export function validateSeries(input: ValidateInput): SymbolReport {
  const { scenario, params, symbol, daily, phases, stored } = input;
  const returns = logReturns(daily.close);
  const view: SeriesView = { daily, phases, returns };
  const report: SymbolReport = {
    symbol,
    passed: false,
    targets: scenario.targets(view, params),
    stylizedFacts: stylizedFacts(returns, phases, daily.volume),
    indicators: scenario.indicators(view, params),
    invariants: invariantChecks(stored),
    figures: {
      sessions: daily.ts.length,
      firstOpen: daily.open[0],
      lastClose: daily.close[daily.close.length - 1],
      totalReturn: roundTo(daily.close[daily.close.length - 1] / daily.open[0] - 1, 6),
      maxDrawdown: roundTo(maxDrawdown(daily.close).drawdown, 6),
      annualisedVolatility: roundTo(standardDeviation(returns) * Math.sqrt(252), 4),
      meanVolume: Math.round(daily.volume.reduce((sum, v) => sum + v, 0) / daily.volume.length),
    },
  };
  report.passed = CHECK_GROUPS.every((group) => report[group].every((check) => check.passed));
  return report;
}

/**
 * The per-symbol rate at which a statistical check (stylized facts, indicator cross-checks)
 * may fail on honest data: each is a test at some significance on ~250 returns.
 */
export const STATISTICAL_FAILURE_RATE = 0.05;

/**
 * How many of `symbols` may fail a statistical check before the run fails it: more than
 * that is less than 1 % likely by chance at STATISTICAL_FAILURE_RATE per symbol (the 99th
 * percentile of a binomial). So one symbol failing a stylized fact does not fail a one-symbol
 * run, while a generator that has lost a fact fails any run of a few symbols. Targets and
 * invariants must hold for every symbol.
 */
export function allowedFailures(symbols: number, rate = STATISTICAL_FAILURE_RATE): number {
  let probability = (1 - rate) ** symbols;
  let cumulative = probability;
  let k = 0;
  while (1 - cumulative > 0.01 && k < symbols) {
    probability *= ((symbols - k) / (k + 1)) * (rate / (1 - rate));
    cumulative += probability;
    k++;
  }
  return k;
}

/** How one check fared across the run's symbols. */
export interface CheckSummary {
  group: CheckGroup;
  name: string;
  passedSymbols: number;
  symbols: number;
  /** What the run requires of this check. */
  required: 'every symbol' | string;
  passed: boolean;
  /** Symbols that failed it (at most 20 listed). */
  failedSymbols: string[];
}

/** The stored validation report of a run. */
export interface ValidationReport {
  passed: boolean;
  /** Checks the run failed, as `group.name` with the symbols that failed them. */
  failedChecks: string[];
  checks: CheckSummary[];
  symbols: SymbolReport[];
}

/** Rolls the symbols' reports up into the run's verdict. */
export function summarizeReports(symbols: SymbolReport[]): ValidationReport {
  const summaries = new Map<string, CheckSummary>();
  for (const report of symbols) {
    for (const group of CHECK_GROUPS) {
      for (const check of report[group]) {
        const key = `${group}.${check.name}`;
        let summary = summaries.get(key);
        if (!summary) {
          const strict = group === 'targets' || group === 'invariants';
          summary = {
            group,
            name: check.name,
            passedSymbols: 0,
            symbols: 0,
            required: strict ? 'every symbol' : '',
            passed: false,
            failedSymbols: [],
          };
          summaries.set(key, summary);
        }
        summary.symbols++;
        if (check.passed) summary.passedSymbols++;
        else if (summary.failedSymbols.length < 20) summary.failedSymbols.push(report.symbol);
      }
    }
  }
  const checks = [...summaries.values()];
  for (const check of checks) {
    if (check.required === 'every symbol') {
      check.passed = check.passedSymbols === check.symbols;
    } else {
      const allowed = allowedFailures(check.symbols);
      check.required = `at most ${allowed} failing symbol${allowed === 1 ? '' : 's'}, the chance level`;
      check.passed = check.symbols - check.passedSymbols <= allowed;
    }
  }
  const failedChecks = checks
    .filter((check) => !check.passed)
    .map(
      (check) =>
        `${check.group}.${check.name}: passed by ${check.passedSymbols} of ${check.symbols} symbols (needs ${check.required}); failed: ${check.failedSymbols.join(', ')}${check.symbols - check.passedSymbols > check.failedSymbols.length ? ', …' : ''}`,
    );
  return { passed: failedChecks.length === 0, failedChecks, checks, symbols };
}
