import { allocateBars, type BarColumns } from '../bars/columns.js';
import type { DailyPlan, ModelParams, Phase, ScenarioDefinition } from './model.js';
import { ScenarioRandom, meanAbsStudentT } from './random.js';
import { maxLogDrawdown } from '../shared/statistics.js';

/** The sessions a series covers: local midnight (the daily ts), open and close instants, epoch ms. */
export interface SessionGrid {
  midnight: Float64Array;
  open: Float64Array;
  close: Float64Array;
}

const MINUTE_MS = 60_000;

/** Degrees of freedom of the per-minute shocks (minute returns are heavier-tailed than daily). */
const MINUTE_NU = 5;
/** How fast the volatility level moves to a new phase's level: the share of the log gap closed per session. */
const LEVEL_ADJUSTMENT = 0.5;
/** Most rounds of the drawdown search; each is one pass over the closes. */
const DRAWDOWN_ROUNDS = 30;
/** Most paths drawn for a symbol when its scenario rejects what it sees (see ScenarioDefinition.accept). */
export const MAX_DRAWS = 8;

/**
 * A symbol's path in log space, relative to the log of the first open: everything the bars
 * are built from. `sigma` is the intraday (open-to-close) standard deviation of each session.
 */
export interface LogPath {
  gap: Float64Array;
  body: Float64Array;
  sigma: Float64Array;
  /** Brownian-bridge uniforms of each session's high and low. */
  highU: Float64Array;
  lowU: Float64Array;
  volume: Float64Array;
  phases: Phase[];
  /** The constant added to each phase's returns to land its target (0 for free phases). */
  corrections: number[];
}

/** What the generator did to land the plan's targets, for the run's metadata. */
export interface GenerationDiagnostics {
  /** Per phase, the daily drift added to land its return (log units). */
  corrections: Array<{ phase: string; perSession: number }>;
  /** The factor the log path was scaled by to land a trading range. */
  rangeScale?: number;
  /** Paths drawn before one was accepted (1 unless the scenario rejected a path). */
  draws: number;
}

/** One symbol's generated bars at the generated timeframe, with its phases and diagnostics. */
export interface GeneratedSeries {
  symbol: string;
  timeframe: '1d' | '1m';
  bars: BarColumns;
  phases: Phase[];
  diagnostics: GenerationDiagnostics;
}

/** The Brownian-bridge maximum (log units above the open) of a move `b` with standard deviation `s`. */
export function bridgeHigh(b: number, s: number, u: number): number {
  return (b + Math.sqrt(b * b - 2 * s * s * Math.log(u))) / 2;
}

/** The Brownian-bridge minimum (log units relative to the open, ≤ min(0, b)). */
export function bridgeLow(b: number, s: number, u: number): number {
  return (b - Math.sqrt(b * b - 2 * s * s * Math.log(u))) / 2;
}

/**
 * Simulates the daily path: GJR-GARCH(1,1) unit variance driven by unit-variance Student-t
 * shocks, scaled by each phase's volatility level (moving there over a few sessions), an
 * overnight gap carrying `overnightGap` of the day's standard deviation, optional mean
 * reversion, then a constant drift per phase that lands each phase's return exactly.
 *
 * The shocks are rescaled so their realised size matches the plan: by one factor for the
 * whole path (GARCH keeps deciding how volatility clusters, across phases too, while the
 * level is the one asked for), except that phases the plan names in `exactVolatility` get a
 * factor of their own (a persistent GARCH wanders far enough that a 25-session crash could
 * otherwise come out calmer than the months before it).
 */
export function simulateDaily(plan: DailyPlan, params: ModelParams, random: ScenarioRandom, sessions: number): LogPath {
  const { alpha, beta, gamma, nu } = params.garch;
  const omega = 1 - alpha - beta - gamma / 2;
  const gapShare = params.overnightGap;
  const bodyShare = Math.sqrt(1 - gapShare * gapShare);
  const meanAbsShock = meanAbsStudentT(nu);
  const noise = params.volumeNoise;

  const shock = new Float64Array(sessions);
  const gapShock = new Float64Array(sessions);
  const volumeShock = new Float64Array(sessions);
  const daily = new Float64Array(sessions);
  const highU = new Float64Array(sessions);
  const lowU = new Float64Array(sessions);
  const phaseOf = new Int32Array(sessions);
  plan.phases.forEach((phase, index) => phaseOf.fill(index, phase.start, phase.end));

  let variance = 1;
  let level = plan.phases[0].dailyVol;
  for (let t = 0; t < sessions; t++) {
    if (t > 0) {
      const squared = shock[t - 1] * shock[t - 1];
      variance = omega + (alpha + (shock[t - 1] < 0 ? gamma : 0)) * variance * squared + beta * variance;
    }
    const wanted = plan.phases[phaseOf[t]].dailyVol;
    level = t === 0 ? wanted : Math.exp(Math.log(level) + LEVEL_ADJUSTMENT * (Math.log(wanted) - Math.log(level)));
    daily[t] = level * Math.sqrt(variance);
    shock[t] = random.studentT(nu);
    gapShock[t] = random.normal();
    highU[t] = random.uniform();
    lowU[t] = random.uniform();
    volumeShock[t] = random.normal();
  }

  // Phases named in exactVolatility are rescaled on their own, all other sessions together.
  const exact = new Set(plan.exactVolatility ?? []);
  const groups = [
    ...plan.phases.filter((phase) => exact.has(phase.name)).map((phase) => phaseIndexes(phase.start, phase.end)),
    plan.phases.filter((phase) => !exact.has(phase.name)).flatMap((phase) => phaseIndexes(phase.start, phase.end)),
  ].filter((group) => group.length > 0);
  for (const group of groups) {
    // Mean square of each session's shock relative to the volatility the plan asked for.
    let sumSquares = 0;
    for (const t of group) {
      const planned = plan.phases[phaseOf[t]].dailyVol;
      const total = (daily[t] / planned) * (t === 0 ? bodyShare * shock[t] : bodyShare * shock[t] + gapShare * gapShock[t]);
      sumSquares += total * total;
    }
    const realised = Math.sqrt(sumSquares / group.length);
    if (realised > 0) for (const t of group) daily[t] /= realised;
  }

  const gap = new Float64Array(sessions);
  const body = new Float64Array(sessions);
  const sigma = new Float64Array(sessions);
  const volume = new Float64Array(sessions);
  const anchor = plan.reversion?.anchor;
  let logClose = 0;
  for (let t = 0; t < sessions; t++) {
    gap[t] = t === 0 ? 0 : gapShare * daily[t] * gapShock[t];
    let pull = 0;
    if (plan.reversion) {
      const target = anchor?.[t] ?? 0;
      const previousTarget = t > 0 ? (anchor?.[t - 1] ?? 0) : 0;
      pull = (1 - plan.reversion.phi) * (previousTarget - logClose) + (target - previousTarget);
    }
    body[t] = pull + bodyShare * daily[t] * shock[t];
    sigma[t] = bodyShare * daily[t];
    logClose += gap[t] + body[t];
    volume[t] =
      params.baseVolume *
      Math.pow(daily[t] / plan.referenceVol, params.volumeElasticity) *
      Math.exp(params.volumeShock * (Math.abs(shock[t]) - meanAbsShock) + noise * volumeShock[t] - (noise * noise) / 2);
  }

  const path: LogPath = { gap, body, sigma, highU, lowU, volume, phases: plan.phases, corrections: plan.phases.map(() => 0) };
  landPhaseReturns(path, plan);
  if (plan.drawdown) landDrawdown(path, plan.drawdown.phase, plan.drawdown.target);
  return path;
}

function phaseIndexes(start: number, end: number): number[] {
  return Array.from({ length: end - start }, (_, i) => start + i);
}

function shiftPhase(path: LogPath, index: number, perSession: number): void {
  const phase = path.phases[index];
  for (let t = phase.start; t < phase.end; t++) path.body[t] += perSession;
  path.corrections[index] += perSession;
}

function phaseSum(path: LogPath, phase: Phase): number {
  let sum = 0;
  for (let t = phase.start; t < phase.end; t++) sum += path.gap[t] + path.body[t];
  return sum;
}

/** Adds to each targeted phase the constant drift that makes its return exact. */
function landPhaseReturns(path: LogPath, plan: DailyPlan): void {
  path.phases.forEach((phase, index) => {
    if (phase.logReturn === undefined) return;
    shiftPhase(path, index, (phase.logReturn - phaseSum(path, phase)) / (phase.end - phase.start));
  });
  if (plan.totalLogReturn !== undefined) {
    const sessions = path.body.length;
    let total = 0;
    for (let t = 0; t < sessions; t++) total += path.gap[t] + path.body[t];
    const perSession = (plan.totalLogReturn - total) / sessions;
    path.phases.forEach((_, index) => shiftPhase(path, index, perSession));
  }
}

function logCloses(path: LogPath): Float64Array {
  const closes = new Float64Array(path.body.length);
  let x = 0;
  for (let t = 0; t < closes.length; t++) {
    x += path.gap[t] + path.body[t];
    closes[t] = x;
  }
  return closes;
}

/**
 * Moves the named phase's return until the closes' maximum drawdown is the target. The
 * drawdown moves one for one with the phase's return while the trough follows the phase, so
 * a few rounds of "shift by the remaining error" settle it.
 */
function landDrawdown(path: LogPath, phaseName: string, target: number): void {
  const index = path.phases.findIndex((phase) => phase.name === phaseName);
  if (index < 0) throw new Error(`no phase ${phaseName} to land the drawdown in`);
  const phase = path.phases[index];
  const wanted = Math.log1p(target);
  for (let round = 0; round < DRAWDOWN_ROUNDS; round++) {
    const error = wanted - maxLogDrawdown(logCloses(path));
    if (Math.abs(error) < 1e-9) break;
    shiftPhase(path, index, error / (phase.end - phase.start));
  }
  phase.logReturn = phaseSum(path, phase);
}

/** Log OHLC arrays relative to the first open, plus ts and volume as they will be stored. */
export type LogBars = Omit<BarColumns, 'vwap' | 'tradeCount'>;

/** Daily log bars: open after the overnight gap, close, Brownian-bridge high and low. */
export function dailyLogBars(path: LogPath, grid: SessionGrid): LogBars {
  const sessions = path.body.length;
  const bars: LogBars = {
    ts: grid.midnight.slice(0, sessions),
    open: new Float64Array(sessions),
    high: new Float64Array(sessions),
    low: new Float64Array(sessions),
    close: new Float64Array(sessions),
    volume: path.volume.slice(),
  };
  let previousClose = 0;
  for (let t = 0; t < sessions; t++) {
    const open = previousClose + path.gap[t];
    const close = open + path.body[t];
    bars.open[t] = open;
    bars.close[t] = close;
    bars.high[t] = open + bridgeHigh(path.body[t], path.sigma[t], path.highU[t]);
    bars.low[t] = open + bridgeLow(path.body[t], path.sigma[t], path.lowU[t]);
    previousClose = close;
  }
  return bars;
}

/**
 * The intraday variance profile of a session of `minutes` minutes: high at the open, a
 * trough at midday, rising into the close. Sums to 1.
 */
export function intradayVarianceProfile(minutes: number): Float64Array {
  return normalised(minutes, (x) => 1 + 1.5 * Math.exp(-x / 0.04) + 0.6 * Math.exp(-(1 - x) / 0.04));
}

/** The intraday volume profile (U-shaped, heavier at the open). Sums to 1. */
export function intradayVolumeProfile(minutes: number): Float64Array {
  return normalised(minutes, (x) => 1 + 2 * Math.exp(-x / 0.05) + 1.2 * Math.exp(-(1 - x) / 0.05) + 0.4 * (2 * x - 1) ** 2);
}

function normalised(minutes: number, shape: (x: number) => number): Float64Array {
  const out = new Float64Array(minutes);
  let sum = 0;
  for (let j = 0; j < minutes; j++) {
    out[j] = shape((j + 0.5) / minutes);
    sum += out[j];
  }
  for (let j = 0; j < minutes; j++) out[j] /= sum;
  return out;
}

/**
 * Minute log bars for every session: Student-t minute shocks under the U-shaped variance
 * profile, conditioned (a variance-weighted bridge) so each session ends exactly at its daily
 * close; Brownian-bridge highs and lows per minute; the daily volume split over the minutes
 * by the volume profile, the size of each minute's shock and noise, in whole shares that
 * sum to the day's volume.
 */
export function minuteLogBars(path: LogPath, grid: SessionGrid, params: ModelParams, random: ScenarioRandom): LogBars {
  const sessions = path.body.length;
  let total = 0;
  const minutesOf = new Int32Array(sessions);
  for (let t = 0; t < sessions; t++) {
    minutesOf[t] = Math.round((grid.close[t] - grid.open[t]) / MINUTE_MS);
    total += minutesOf[t];
  }
  const bars: LogBars = {
    ts: new Float64Array(total),
    open: new Float64Array(total),
    high: new Float64Array(total),
    low: new Float64Array(total),
    close: new Float64Array(total),
    volume: new Float64Array(total),
  };
  const profiles = new Map<number, { variance: Float64Array; volume: Float64Array }>();
  const meanAbsShock = meanAbsStudentT(MINUTE_NU);
  let shocks = new Float64Array(0);
  let weights = new Float64Array(0);

  let previousClose = 0;
  let row = 0;
  for (let t = 0; t < sessions; t++) {
    const minutes = minutesOf[t];
    let profile = profiles.get(minutes);
    if (!profile) {
      profile = { variance: intradayVarianceProfile(minutes), volume: intradayVolumeProfile(minutes) };
      profiles.set(minutes, profile);
    }
    if (shocks.length < minutes) {
      shocks = new Float64Array(minutes);
      weights = new Float64Array(minutes);
    }
    const dayOpen = previousClose + path.gap[t];
    const dayClose = dayOpen + path.body[t];
    let rawSum = 0;
    for (let j = 0; j < minutes; j++) {
      shocks[j] = random.studentT(MINUTE_NU);
      rawSum += path.sigma[t] * Math.sqrt(profile.variance[j]) * shocks[j];
    }
    const residual = path.body[t] - rawSum;

    let open = dayOpen;
    let weightSum = 0;
    for (let j = 0; j < minutes; j++) {
      const s = path.sigma[t] * Math.sqrt(profile.variance[j]);
      const move = s * shocks[j] + profile.variance[j] * residual;
      const close = j === minutes - 1 ? dayClose : open + move;
      const r = close - open;
      const index = row + j;
      bars.ts[index] = grid.open[t] + j * MINUTE_MS;
      bars.open[index] = open;
      bars.close[index] = close;
      bars.high[index] = open + bridgeHigh(r, s, random.uniform());
      bars.low[index] = open + bridgeLow(r, s, random.uniform());
      weights[j] =
        profile.volume[j] *
        Math.exp(params.volumeShock * (Math.abs(shocks[j]) - meanAbsShock) + params.volumeNoise * random.normal());
      weightSum += weights[j];
      open = close;
    }
    // Cumulative rounding: whole shares per minute that add up exactly to the day's volume.
    const dayVolume = Math.round(path.volume[t]);
    let cumulative = 0;
    let allocated = 0;
    for (let j = 0; j < minutes; j++) {
      cumulative += weights[j];
      const upTo = j === minutes - 1 ? dayVolume : Math.round((dayVolume * cumulative) / weightSum);
      bars.volume[row + j] = upTo - allocated;
      allocated = upTo;
    }
    previousClose = dayClose;
    row += minutes;
  }
  return bars;
}

/** Scales a log path (relative to the first open) so that max(high) / min(low) − 1 = range. */
export function landTradingRange(bars: LogBars, range: number): number {
  let highest = -Infinity;
  let lowest = Infinity;
  for (let i = 0; i < bars.high.length; i++) {
    if (bars.high[i] > highest) highest = bars.high[i];
    if (bars.low[i] < lowest) lowest = bars.low[i];
  }
  const scale = Math.log1p(range) / (highest - lowest);
  for (const column of [bars.open, bars.high, bars.low, bars.close]) {
    for (let i = 0; i < column.length; i++) column[i] *= scale;
  }
  return scale;
}

/**
 * Turns log bars into prices: initialPrice·e^x rounded to `decimals`, then re-establishes
 * low ≤ min(open, close) ≤ max(open, close) ≤ high and low ≥ one tick after rounding.
 */
export function priceBars(log: LogBars, initialPrice: number, decimals: number): BarColumns {
  const n = log.ts.length;
  const bars = allocateBars(n);
  const factor = 10 ** decimals;
  const tick = 1 / factor;
  const price = (x: number) => Math.max(tick, Math.round(initialPrice * Math.exp(x) * factor) / factor);
  bars.ts.set(log.ts);
  for (let i = 0; i < n; i++) {
    const open = price(log.open[i]);
    const close = price(log.close[i]);
    const high = Math.max(price(log.high[i]), open, close);
    const low = Math.min(price(log.low[i]), open, close);
    bars.open[i] = open;
    bars.close[i] = close;
    bars.high[i] = high;
    bars.low[i] = low;
    bars.volume[i] = Math.round(log.volume[i]);
    bars.vwap[i] = Math.round(((high + low + close) / 3) * factor) / factor;
    bars.tradeCount[i] = NaN;
  }
  return bars;
}

/** Everything generateSeries needs: the scenario and its resolved parameters, seed, symbol, sessions. */
export interface GenerateInput {
  scenario: ScenarioDefinition;
  params: ModelParams;
  seed: number;
  symbol: string;
  grid: SessionGrid;
  timeframe: '1d' | '1m';
}

/**
 * Generates one symbol's series, a pure function of (scenario, params, seed, symbol,
 * sessions, timeframe) and GENERATOR_VERSION. The daily path draws from the symbol's own
 * "daily" stream and the minutes from its "intraday" stream, so a 1m run's sessions close
 * exactly where the 1d run's do.
 */
export function generateSeries(input: GenerateInput): GeneratedSeries {
  const { scenario, params, seed, symbol, grid, timeframe } = input;
  const sessions = grid.midnight.length;
  let draws = 0;
  let plan: DailyPlan;
  let path: LogPath;
  do {
    // The first draw uses the "daily" stream; redraws take fresh sub-streams of the same symbol.
    const daily = new ScenarioRandom(seed, symbol, draws === 0 ? 'daily' : `daily/${draws}`);
    plan = scenario.plan(params, sessions, daily);
    path = simulateDaily(plan, params, daily, sessions);
    draws++;
  } while (scenario.accept && draws < MAX_DRAWS && !scenario.accept(logCloses(path), params));
  const log =
    timeframe === '1d'
      ? dailyLogBars(path, grid)
      : minuteLogBars(path, grid, params, new ScenarioRandom(seed, symbol, 'intraday'));
  const rangeScale = plan.tradingRange !== undefined ? landTradingRange(log, plan.tradingRange) : undefined;
  return {
    symbol,
    timeframe,
    bars: priceBars(log, params.initialPrice, params.priceDecimals),
    phases: path.phases.map((phase) => ({ ...phase })),
    diagnostics: {
      corrections: path.phases.map((phase, index) => ({ phase: phase.name, perSession: path.corrections[index] })),
      ...(rangeScale !== undefined ? { rangeScale } : {}),
      draws,
    },
  };
}
