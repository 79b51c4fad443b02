/**
 * The candle measures and settings TA-Lib's candlestick functions are built on (TA-Lib C 0.6,
 * as shipped in the `talib` npm package 2.0.5: `ta_utility.h`, `ta_global.c`).
 *
 * Every comparison in a TA-Lib candlestick function weighs a candle part (real body, shadow,
 * high-low range) against a setting: `factor × (the average of a range over the setting's
 * period of preceding bars)`, halved when the range is the sum of both shadows. The averages
 * are running totals, kept exactly as TA-Lib keeps them (summed once over the first window,
 * then `total += range[new] − range[old]` per bar), because equality with TA-Lib on every bar
 * depends on the same floating-point operations in the same order.
 */

/** The candle part a setting measures (TA-Lib's `TA_RangeType`). */
export type CandleRange = 'realBody' | 'highLow' | 'shadows';

/** One of TA-Lib's candle settings (`TA_CandleSetting`). */
export interface CandleSetting {
  readonly range: CandleRange;
  /** Number of preceding bars averaged; 0 compares with the bar's own range. */
  readonly period: number;
  readonly factor: number;
  /** 2 for `shadows` (the average of one shadow), otherwise 1. */
  readonly divisor: number;
}

function setting(range: CandleRange, period: number, factor: number): CandleSetting {
  return { range, period, factor, divisor: range === 'shadows' ? 2 : 1 };
}

/** TA-Lib's default candle settings (`TA_RestoreCandleDefaultSettings`). */
export const CANDLE_SETTINGS = {
  /** A real body longer than the average of the 10 previous real bodies. */
  bodyLong: setting('realBody', 10, 1.0),
  /** A real body longer than 3 × the average of the 10 previous real bodies. */
  bodyVeryLong: setting('realBody', 10, 3.0),
  /** A real body shorter than the average of the 10 previous real bodies. */
  bodyShort: setting('realBody', 10, 1.0),
  /** A real body shorter than 10 % of the average of the 10 previous high-low ranges. */
  bodyDoji: setting('highLow', 10, 0.1),
  /** A shadow longer than the bar's real body. */
  shadowLong: setting('realBody', 0, 1.0),
  /** A shadow longer than 2 × the bar's real body. */
  shadowVeryLong: setting('realBody', 0, 2.0),
  /** A shadow shorter than half the average of the 10 previous sums of shadows. */
  shadowShort: setting('shadows', 10, 1.0),
  /** A shadow shorter than 10 % of the average of the 10 previous high-low ranges. */
  shadowVeryShort: setting('highLow', 10, 0.1),
  /** A distance at most 20 % of the average of the 5 previous high-low ranges. */
  near: setting('highLow', 5, 0.2),
  /** A distance at least 60 % of the average of the 5 previous high-low ranges. */
  far: setting('highLow', 5, 0.6),
  /** A distance at most 5 % of the average of the 5 previous high-low ranges. */
  equal: setting('highLow', 5, 0.05),
} as const satisfies Record<string, CandleSetting>;

/** Open, high, low and close of one series, ascending in time. */
export interface OhlcColumns {
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
}

/**
 * A series' bars with the candle parts TA-Lib measures, computed once per series with TA-Lib's
 * expressions so every pattern reads the same values TA-Lib's macros would compute.
 */
export interface Candles extends OhlcColumns {
  /** |close − open| (`TA_REALBODY`). */
  body: Float64Array;
  /** high − low (`TA_HIGHLOWRANGE`). */
  highLow: Float64Array;
  /** high − max(open, close), taking close when close ≥ open (`TA_UPPERSHADOW`). */
  upper: Float64Array;
  /** min(open, close) − low, taking open when close ≥ open (`TA_LOWERSHADOW`). */
  lower: Float64Array;
  /**
   * upper + lower (`TA_CANDLERANGE` of a `shadows` setting); computed by `rangeOf` when a
   * pattern first needs it, since few do.
   */
  shadows: Float64Array | undefined;
}

/** The candle parts of every bar. */
export function candlesOf(bars: OhlcColumns): Candles {
  const { open, high, low, close } = bars;
  const length = close.length;
  // One allocation for the four measures: a series is often short and detection runs per series.
  const buffer = new ArrayBuffer(4 * 8 * length);
  const body = new Float64Array(buffer, 0, length);
  const highLow = new Float64Array(buffer, 8 * length, length);
  const upper = new Float64Array(buffer, 16 * length, length);
  const lower = new Float64Array(buffer, 24 * length, length);
  for (let i = 0; i < length; i++) {
    const white = close[i] >= open[i];
    body[i] = Math.abs(close[i] - open[i]);
    highLow[i] = high[i] - low[i];
    upper[i] = high[i] - (white ? close[i] : open[i]);
    lower[i] = (white ? open[i] : close[i]) - low[i];
  }
  return { open, high, low, close, body, highLow, upper, lower, shadows: undefined };
}

/** The per-bar values a setting averages. */
export function rangeOf(candles: Candles, candleSetting: CandleSetting): Float64Array {
  switch (candleSetting.range) {
    case 'realBody':
      return candles.body;
    case 'highLow':
      return candles.highLow;
    case 'shadows':
      if (!candles.shadows) {
        const { upper, lower } = candles;
        candles.shadows = upper.map((value, i) => value + lower[i]);
      }
      return candles.shadows;
  }
}

/**
 * `TA_CANDLEAVERAGE`: factor × (total / period, or the bar's own range when the period is 0),
 * divided by 2 for shadows. `values` and `i` only matter for a period of 0.
 */
export function average(candleSetting: CandleSetting, total: number, values: Float64Array, i: number): number {
  return (candleSetting.factor * (candleSetting.period !== 0 ? total / candleSetting.period : values[i])) / candleSetting.divisor;
}

/**
 * Clears `out` on the bars of a kernel's lookback, where no pattern can be judged; false when the
 * series has no bar past them.
 */
export function clearLookback(out: Int32Array, lookback: number): boolean {
  out.fill(0, 0, Math.min(lookback, out.length));
  return out.length > lookback;
}

/** The sum of values[from … to − 1], added in order from 0 as TA-Lib starts a running total. */
export function windowTotal(values: Float64Array, from: number, to: number): number {
  let total = 0;
  for (let k = from; k < to; k++) total += values[k];
  return total;
}

/** 1 for a white candle (close ≥ open), −1 for a black one (`TA_CANDLECOLOR`). */
export function color(open: Float64Array, close: Float64Array, i: number): number {
  return close[i] >= open[i] ? 1 : -1;
}

/** TA-Lib's `max` macro (not Math.max: the same choice between equal or signed-zero values). */
export function bodyTop(open: Float64Array, close: Float64Array, i: number): number {
  return close[i] > open[i] ? close[i] : open[i];
}

/** TA-Lib's `min` macro over open and close. */
export function bodyBottom(open: Float64Array, close: Float64Array, i: number): number {
  return close[i] < open[i] ? close[i] : open[i];
}

/** `TA_REALBODYGAPUP(later, earlier)`: the later body lies wholly above the earlier one. */
export function bodyGapUp(open: Float64Array, close: Float64Array, later: number, earlier: number): boolean {
  return bodyBottom(open, close, later) > bodyTop(open, close, earlier);
}

/** `TA_REALBODYGAPDOWN(later, earlier)`: the later body lies wholly below the earlier one. */
export function bodyGapDown(open: Float64Array, close: Float64Array, later: number, earlier: number): boolean {
  return bodyTop(open, close, later) < bodyBottom(open, close, earlier);
}
