/**
 * Event patterns: breakouts, extremes, spikes and gaps on a timeframe's bars, with the
 * definitions docs/patterns.md gives.
 *
 * Each kernel writes +100 (bullish), −100 (bearish) or 0 for every bar into `out`, and 0 on the
 * bars of its lookback. A detection at bar i reads bars i − lookback … i and nothing else: every
 * window is summed afresh in order, never carried in a running total, so a bar's result does
 * not depend on where the series read for it begins.
 */
import type { OhlcColumns } from './candles.js';

/** The columns event patterns read. */
export interface EventColumns extends OhlcColumns {
  volume: Float64Array;
}

/** An event kernel and its lookback. */
export interface EventKernel {
  lookback: number;
  run(bars: EventColumns, out: Int32Array): void;
  /** One line: the definition. */
  summary: string;
}

/**
 * For each i ≥ period, the index of the largest (`sign` 1) or smallest (`sign` −1) of
 * values[i − period … i − 1], the latest on ties; −1 before. One pass with a monotonic deque.
 */
function priorExtremeIndex(values: Float64Array, period: number, sign: 1 | -1): Int32Array {
  const length = values.length;
  const at = new Int32Array(length).fill(-1);
  const deque = new Int32Array(length);
  let head = 0;
  let tail = 0;
  for (let i = 0; i < length; i++) {
    if (i >= period) {
      while (deque[head] < i - period) head++;
      at[i] = deque[head];
    }
    // Keep candidates strictly better than anything after them: on a tie the later bar wins.
    while (tail > head && sign * values[deque[tail - 1]] <= sign * values[i]) tail--;
    deque[tail++] = i;
  }
  return at;
}

/** The mean of values[from … to − 1], summed in order. */
function windowMean(values: Float64Array, from: number, to: number): number {
  let sum = 0;
  for (let k = from; k < to; k++) sum += values[k];
  return sum / (to - from);
}

function direction(bullish: boolean): number {
  return bullish ? 100 : -100;
}

/**
 * `values` beyond the most extreme of the previous `period` bars' `extremes`: above the highest
 * (`sign` 1, +100) or below the lowest (−1, −100).
 */
function beyondPrior(values: Float64Array, extremes: Float64Array, out: Int32Array, period: number, sign: 1 | -1): void {
  out.fill(0);
  const at = priorExtremeIndex(extremes, period, sign);
  for (let i = period; i < values.length; i++) {
    if (sign * values[i] > sign * extremes[at[i]]) out[i] = sign * 100;
  }
}

const BREAKOUT_BARS = 20;
const YEAR_BARS = 252;
const VOLUME_BARS = 20;
const VOLUME_MULTIPLE = 3;
const GAP = 0.01;
const SURGE_BARS = 20;
const SURGE_MULTIPLE = 2.5;
const FAST_BARS = 20;
const SLOW_BARS = 50;
const DIVERGENCE_BARS = 20;
const MOMENTUM_BARS = 10;
const LEVEL_BARS = 20;
const LEVEL_TOLERANCE = 0.005;
const REVERSION_BARS = 20;
const REVERSION_Z = 2;

function volumeSpike(bars: EventColumns, out: Int32Array): void {
  out.fill(0);
  const { open, close, volume } = bars;
  for (let i = VOLUME_BARS; i < close.length; i++) {
    if (volume[i] > VOLUME_MULTIPLE * windowMean(volume, i - VOLUME_BARS, i)) out[i] = direction(close[i] >= open[i]);
  }
}

function gap(bars: EventColumns, out: Int32Array, sign: 1 | -1): void {
  out.fill(0);
  const { open, high, low } = bars;
  for (let i = 1; i < open.length; i++) {
    if (sign === 1 ? open[i] > high[i - 1] * (1 + GAP) : open[i] < low[i - 1] * (1 - GAP)) out[i] = sign * 100;
  }
}

/** True range of bar i: its high-low range widened to the previous close. */
function trueRange(bars: EventColumns, i: number): number {
  const previous = bars.close[i - 1];
  return (bars.high[i] > previous ? bars.high[i] : previous) - (bars.low[i] < previous ? bars.low[i] : previous);
}

function volatilitySurge(bars: EventColumns, out: Int32Array): void {
  out.fill(0);
  const length = bars.close.length;
  const ranges = new Float64Array(length);
  for (let i = 1; i < length; i++) ranges[i] = trueRange(bars, i);
  for (let i = SURGE_BARS + 1; i < length; i++) {
    if (ranges[i] > SURGE_MULTIPLE * windowMean(ranges, i - SURGE_BARS, i))
      out[i] = direction(bars.close[i] >= bars.close[i - 1]);
  }
}

function trendContinuation(bars: EventColumns, out: Int32Array): void {
  out.fill(0);
  const close = bars.close;
  for (let i = SLOW_BARS; i < close.length; i++) {
    const fast = windowMean(close, i - FAST_BARS + 1, i + 1);
    const fastBefore = windowMean(close, i - FAST_BARS, i);
    const slow = windowMean(close, i - SLOW_BARS + 1, i + 1);
    const slowBefore = windowMean(close, i - SLOW_BARS, i);
    if (fast > slow && slow > slowBefore && close[i - 1] <= fastBefore && close[i] > fast) out[i] = 100;
    else if (fast < slow && slow < slowBefore && close[i - 1] >= fastBefore && close[i] < fast) out[i] = -100;
  }
}

function momentumDivergence(bars: EventColumns, out: Int32Array): void {
  out.fill(0);
  const close = bars.close;
  const highest = priorExtremeIndex(close, DIVERGENCE_BARS, 1);
  const lowest = priorExtremeIndex(close, DIVERGENCE_BARS, -1);
  const momentum = (k: number) => close[k] - close[k - MOMENTUM_BARS];
  for (let i = DIVERGENCE_BARS + MOMENTUM_BARS; i < close.length; i++) {
    const peak = highest[i];
    const trough = lowest[i];
    if (close[i] > close[peak] && momentum(i) < momentum(peak)) out[i] = -100;
    else if (close[i] < close[trough] && momentum(i) > momentum(trough)) out[i] = 100;
  }
}

function supportResistance(bars: EventColumns, out: Int32Array): void {
  out.fill(0);
  const { high, low, close } = bars;
  const support = priorExtremeIndex(low, LEVEL_BARS, -1);
  const resistance = priorExtremeIndex(high, LEVEL_BARS, 1);
  for (let i = LEVEL_BARS; i < close.length; i++) {
    const middle = (high[i] + low[i]) / 2;
    const floor = low[support[i]];
    const ceiling = high[resistance[i]];
    if (low[i] <= floor * (1 + LEVEL_TOLERANCE) && close[i] > floor && close[i] > middle) out[i] = 100;
    else if (high[i] >= ceiling * (1 - LEVEL_TOLERANCE) && close[i] < ceiling && close[i] < middle) out[i] = -100;
  }
}

function meanReversion(bars: EventColumns, out: Int32Array): void {
  out.fill(0);
  const close = bars.close;
  for (let i = REVERSION_BARS - 1; i < close.length; i++) {
    const from = i - REVERSION_BARS + 1;
    const mean = windowMean(close, from, i + 1);
    let squares = 0;
    for (let k = from; k <= i; k++) squares += (close[k] - mean) * (close[k] - mean);
    const deviation = Math.sqrt(squares / REVERSION_BARS);
    if (deviation === 0) continue;
    const z = (close[i] - mean) / deviation;
    if (z < -REVERSION_Z) out[i] = 100;
    else if (z > REVERSION_Z) out[i] = -100;
  }
}

/** The event patterns by key. */
export const EVENTS = {
  breakout_20: {
    lookback: BREAKOUT_BARS,
    run: (bars, out) => beyondPrior(bars.close, bars.high, out, BREAKOUT_BARS, 1),
    summary: 'close > the highest high of the previous 20 bars (+100)',
  },
  breakdown_20: {
    lookback: BREAKOUT_BARS,
    run: (bars, out) => beyondPrior(bars.close, bars.low, out, BREAKOUT_BARS, -1),
    summary: 'close < the lowest low of the previous 20 bars (−100)',
  },
  high_52w: {
    lookback: YEAR_BARS,
    run: (bars, out) => beyondPrior(bars.high, bars.high, out, YEAR_BARS, 1),
    summary: 'high > the highest high of the previous 252 bars (+100)',
  },
  low_52w: {
    lookback: YEAR_BARS,
    run: (bars, out) => beyondPrior(bars.low, bars.low, out, YEAR_BARS, -1),
    summary: 'low < the lowest low of the previous 252 bars (−100)',
  },
  volume_spike: {
    lookback: VOLUME_BARS,
    run: volumeSpike,
    summary: 'volume > 3 × the mean volume of the previous 20 bars (+100 when close ≥ open, else −100)',
  },
  gap_up: {
    lookback: 1,
    run: (bars, out) => gap(bars, out, 1),
    summary: 'open > the previous high × 1.01 (+100)',
  },
  gap_down: {
    lookback: 1,
    run: (bars, out) => gap(bars, out, -1),
    summary: 'open < the previous low × 0.99 (−100)',
  },
  volatility_surge: {
    lookback: SURGE_BARS + 1,
    run: volatilitySurge,
    summary: 'true range > 2.5 × the mean true range of the previous 20 bars (+100 when close ≥ the previous close, else −100)',
  },
  trend_continuation: {
    lookback: SLOW_BARS,
    run: trendContinuation,
    summary:
      'in a trend (20-bar mean above a rising 50-bar mean), the close crosses back above the 20-bar mean after closing at or below it (+100); the mirror in a downtrend (−100)',
  },
  momentum_divergence: {
    lookback: DIVERGENCE_BARS + MOMENTUM_BARS,
    run: momentumDivergence,
    summary:
      'close above the highest close of the previous 20 bars with lower 10-bar momentum than at that close (−100); below the lowest with higher momentum (+100)',
  },
  support_resistance: {
    lookback: LEVEL_BARS,
    run: supportResistance,
    summary:
      'low within 0.5 % of (or below) the lowest low of the previous 20 bars, closing above it in the upper half of the bar (+100); the mirror at the highest high (−100)',
  },
  mean_reversion: {
    lookback: REVERSION_BARS - 1,
    run: meanReversion,
    summary: 'close more than 2 standard deviations below (+100) or above (−100) the mean of the last 20 closes, itself included',
  },
} as const satisfies Record<string, EventKernel>;

export type EventKey = keyof typeof EVENTS;

/** The event keys in catalogue order. */
export const EVENT_KEYS = Object.keys(EVENTS) as EventKey[];
