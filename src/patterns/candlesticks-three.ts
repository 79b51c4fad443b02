/**
 * TA-Lib's three-candle patterns, ported line for line from TA-Lib C 0.6 (`ta_CDL*.c` in the
 * `talib` npm package 2.0.5) with its default candle settings and penetrations.
 *
 * Each kernel writes TA-Lib's output for every bar into `out` and 0 for the bars of its
 * lookback. Running totals start at the first bar with a full lookback, as TA-Lib's do when
 * called on the whole series; a total TA-Lib keeps per candle of the pattern is kept per candle
 * here too, since each accumulates its own rounding.
 */
import {
  CANDLE_SETTINGS as S,
  clearLookback,
  average,
  bodyBottom,
  bodyGapDown,
  bodyGapUp,
  bodyTop,
  color,
  type Candles,
  rangeOf,
  windowTotal,
} from './candles.js';

/** Bars before the first one `cdl2crows` can judge. */
export const CDL2CROWS_LOOKBACK = S.bodyLong.period + 2;

/**
 * Two crows: a long white candle, a black one gapping up, then a black one opening inside the
 * second body and closing inside the first. −100.
 */
export function cdl2crows(c: Candles, out: Int32Array): void {
  const { open, close, body } = c;
  const { bodyLong } = S;
  const length = close.length;
  const start = CDL2CROWS_LOOKBACK;
  if (!clearLookback(out, start)) return;
  const longRange = rangeOf(c, bodyLong);
  let longTotal = windowTotal(longRange, start - 2 - bodyLong.period, start - 2);
  for (let i = start; i < length; i++) {
    out[i] =
      color(open, close, i - 2) === 1 &&
      body[i - 2] > average(bodyLong, longTotal, longRange, i - 2) &&
      color(open, close, i - 1) === -1 &&
      bodyGapUp(open, close, i - 1, i - 2) &&
      color(open, close, i) === -1 &&
      open[i] < open[i - 1] &&
      open[i] > close[i - 1] &&
      close[i] > open[i - 2] &&
      close[i] < close[i - 2]
        ? -100
        : 0;
    longTotal += longRange[i - 2] - longRange[i - 2 - bodyLong.period];
  }
}

/** Bars before the first one the three soldiers or crows can judge. */
export const CDL3BLACKCROWS_LOOKBACK = S.shadowVeryShort.period + 3;

/**
 * Three black crows: a white candle, then three black ones with very short lower shadows, each
 * opening inside the previous body and closing lower, the first closing below the white high. −100.
 */
export function cdl3blackcrows(c: Candles, out: Int32Array): void {
  const { open, high, close, lower } = c;
  const { shadowVeryShort } = S;
  const length = close.length;
  const start = CDL3BLACKCROWS_LOOKBACK;
  if (!clearLookback(out, start)) return;
  const shadowRange = rangeOf(c, shadowVeryShort);
  const period = shadowVeryShort.period;
  let total2 = windowTotal(shadowRange, start - 2 - period, start - 2);
  let total1 = windowTotal(shadowRange, start - 1 - period, start - 1);
  let total0 = windowTotal(shadowRange, start - period, start);
  for (let i = start; i < length; i++) {
    out[i] =
      color(open, close, i - 3) === 1 &&
      color(open, close, i - 2) === -1 &&
      lower[i - 2] < average(shadowVeryShort, total2, shadowRange, i - 2) &&
      color(open, close, i - 1) === -1 &&
      lower[i - 1] < average(shadowVeryShort, total1, shadowRange, i - 1) &&
      color(open, close, i) === -1 &&
      lower[i] < average(shadowVeryShort, total0, shadowRange, i) &&
      open[i - 1] < open[i - 2] &&
      open[i - 1] > close[i - 2] &&
      open[i] < open[i - 1] &&
      open[i] > close[i - 1] &&
      high[i - 3] > close[i - 2] &&
      close[i - 2] > close[i - 1] &&
      close[i - 1] > close[i]
        ? -100
        : 0;
    total2 += shadowRange[i - 2] - shadowRange[i - 2 - period];
    total1 += shadowRange[i - 1] - shadowRange[i - 1 - period];
    total0 += shadowRange[i] - shadowRange[i - period];
  }
}

/** Bars before the first one `cdl3inside` can judge. */
export const CDL3INSIDE_LOOKBACK = Math.max(S.bodyShort.period, S.bodyLong.period) + 2;

/**
 * Three inside up/down: a long candle, a short body inside it, then a third candle of the
 * opposite colour closing beyond the first one's open. −100 × the first candle's colour.
 */
export function cdl3inside(c: Candles, out: Int32Array): void {
  const { open, close, body } = c;
  const { bodyLong, bodyShort } = S;
  const length = close.length;
  const start = CDL3INSIDE_LOOKBACK;
  if (!clearLookback(out, start)) return;
  const longRange = rangeOf(c, bodyLong);
  const shortRange = rangeOf(c, bodyShort);
  let longTotal = windowTotal(longRange, start - 2 - bodyLong.period, start - 2);
  let shortTotal = windowTotal(shortRange, start - 1 - bodyShort.period, start - 1);
  for (let i = start; i < length; i++) {
    const first = color(open, close, i - 2);
    const third = color(open, close, i);
    out[i] =
      body[i - 2] > average(bodyLong, longTotal, longRange, i - 2) &&
      body[i - 1] <= average(bodyShort, shortTotal, shortRange, i - 1) &&
      bodyTop(open, close, i - 1) < bodyTop(open, close, i - 2) &&
      bodyBottom(open, close, i - 1) > bodyBottom(open, close, i - 2) &&
      ((first === 1 && third === -1 && close[i] < open[i - 2]) || (first === -1 && third === 1 && close[i] > open[i - 2]))
        ? -first * 100
        : 0;
    longTotal += longRange[i - 2] - longRange[i - 2 - bodyLong.period];
    shortTotal += shortRange[i - 1] - shortRange[i - 1 - bodyShort.period];
  }
}

/** Bars before the first one `cdl3outside` can judge (TA-Lib's 3, though it reads two back). */
export const CDL3OUTSIDE_LOOKBACK = 3;

/**
 * Three outside up/down: an engulfing pair, then a third candle closing further in the
 * engulfing candle's direction. ±100 by the engulfing candle's colour.
 */
export function cdl3outside(c: Candles, out: Int32Array): void {
  const { open, close } = c;
  const length = close.length;
  const start = CDL3OUTSIDE_LOOKBACK;
  if (!clearLookback(out, start)) return;
  for (let i = start; i < length; i++) {
    const second = color(open, close, i - 1);
    const first = color(open, close, i - 2);
    out[i] =
      (second === 1 && first === -1 && close[i - 1] > open[i - 2] && open[i - 1] < close[i - 2] && close[i] > close[i - 1]) ||
      (second === -1 && first === 1 && open[i - 1] > close[i - 2] && close[i - 1] < open[i - 2] && close[i] < close[i - 1])
        ? second * 100
        : 0;
  }
}

/** Bars before the first one `cdl3whitesoldiers` can judge. */
export const CDL3WHITESOLDIERS_LOOKBACK = Math.max(S.shadowVeryShort.period, S.bodyShort.period, S.far.period, S.near.period) + 2;

/**
 * Three white soldiers: three white candles with very short upper shadows, each closing higher
 * and opening within or near the previous body, no body much shorter than the one before, the
 * last not short. +100.
 */
export function cdl3whitesoldiers(c: Candles, out: Int32Array): void {
  const { open, close, body, upper } = c;
  const { bodyShort, shadowVeryShort, near, far } = S;
  const length = close.length;
  const start = CDL3WHITESOLDIERS_LOOKBACK;
  if (!clearLookback(out, start)) return;
  const shadowRange = rangeOf(c, shadowVeryShort);
  const nearRange = rangeOf(c, near);
  const farRange = rangeOf(c, far);
  const shortRange = rangeOf(c, bodyShort);
  const shadowPeriod = shadowVeryShort.period;
  const nearPeriod = near.period;
  const farPeriod = far.period;
  let shadow2 = windowTotal(shadowRange, start - 2 - shadowPeriod, start - 2);
  let shadow1 = windowTotal(shadowRange, start - 1 - shadowPeriod, start - 1);
  let shadow0 = windowTotal(shadowRange, start - shadowPeriod, start);
  let near2 = windowTotal(nearRange, start - 2 - nearPeriod, start - 2);
  let near1 = windowTotal(nearRange, start - 1 - nearPeriod, start - 1);
  let far2 = windowTotal(farRange, start - 2 - farPeriod, start - 2);
  let far1 = windowTotal(farRange, start - 1 - farPeriod, start - 1);
  let shortTotal = windowTotal(shortRange, start - bodyShort.period, start);
  for (let i = start; i < length; i++) {
    out[i] =
      color(open, close, i - 2) === 1 &&
      upper[i - 2] < average(shadowVeryShort, shadow2, shadowRange, i - 2) &&
      color(open, close, i - 1) === 1 &&
      upper[i - 1] < average(shadowVeryShort, shadow1, shadowRange, i - 1) &&
      color(open, close, i) === 1 &&
      upper[i] < average(shadowVeryShort, shadow0, shadowRange, i) &&
      close[i] > close[i - 1] &&
      close[i - 1] > close[i - 2] &&
      open[i - 1] > open[i - 2] &&
      open[i - 1] <= close[i - 2] + average(near, near2, nearRange, i - 2) &&
      open[i] > open[i - 1] &&
      open[i] <= close[i - 1] + average(near, near1, nearRange, i - 1) &&
      body[i - 1] > body[i - 2] - average(far, far2, farRange, i - 2) &&
      body[i] > body[i - 1] - average(far, far1, farRange, i - 1) &&
      body[i] > average(bodyShort, shortTotal, shortRange, i)
        ? 100
        : 0;
    shadow2 += shadowRange[i - 2] - shadowRange[i - 2 - shadowPeriod];
    shadow1 += shadowRange[i - 1] - shadowRange[i - 1 - shadowPeriod];
    shadow0 += shadowRange[i] - shadowRange[i - shadowPeriod];
    far2 += farRange[i - 2] - farRange[i - 2 - farPeriod];
    near2 += nearRange[i - 2] - nearRange[i - 2 - nearPeriod];
    far1 += farRange[i - 1] - farRange[i - 1 - farPeriod];
    near1 += nearRange[i - 1] - nearRange[i - 1 - nearPeriod];
    shortTotal += shortRange[i] - shortRange[i - bodyShort.period];
  }
}

/** The penetration TA-Lib's morning and evening stars use by default. */
export const STAR_PENETRATION = 0.3;
/** Bars before the first one the morning or evening star can judge. */
export const CDLMORNINGSTAR_LOOKBACK = Math.max(S.bodyShort.period, S.bodyLong.period) + 2;
export const CDLEVENINGSTAR_LOOKBACK = CDLMORNINGSTAR_LOOKBACK;

/**
 * A long candle (white for the evening star, black for the morning star), a short body gapping
 * away from it, then a longer candle of the other colour closing well into the first body
 * (more than 30 % of it). −1 × the first candle's colour × 100.
 */
function star(c: Candles, out: Int32Array, firstColor: 1 | -1): void {
  const { open, close, body } = c;
  const { bodyLong, bodyShort } = S;
  const length = close.length;
  const start = CDLMORNINGSTAR_LOOKBACK;
  if (!clearLookback(out, start)) return;
  const longRange = rangeOf(c, bodyLong);
  const shortRange = rangeOf(c, bodyShort);
  const shortPeriod = bodyShort.period;
  let longTotal = windowTotal(longRange, start - 2 - bodyLong.period, start - 2);
  // TA-Lib sums its second short-body total in the same loop as the first (`range(i + 1)`).
  let shortTotal = 0;
  let shortTotal2 = 0;
  for (let k = start - 1 - shortPeriod; k < start - 1; k++) {
    shortTotal += shortRange[k];
    shortTotal2 += shortRange[k + 1];
  }
  for (let i = start; i < length; i++) {
    const penetration = body[i - 2] * STAR_PENETRATION;
    out[i] =
      body[i - 2] > average(bodyLong, longTotal, longRange, i - 2) &&
      color(open, close, i - 2) === firstColor &&
      body[i - 1] <= average(bodyShort, shortTotal, shortRange, i - 1) &&
      (firstColor === 1 ? bodyGapUp(open, close, i - 1, i - 2) : bodyGapDown(open, close, i - 1, i - 2)) &&
      body[i] > average(bodyShort, shortTotal2, shortRange, i) &&
      color(open, close, i) === -firstColor &&
      (firstColor === 1 ? close[i] < close[i - 2] - penetration : close[i] > close[i - 2] + penetration)
        ? -firstColor * 100
        : 0;
    longTotal += longRange[i - 2] - longRange[i - 2 - bodyLong.period];
    shortTotal += shortRange[i - 1] - shortRange[i - 1 - shortPeriod];
    shortTotal2 += shortRange[i] - shortRange[i - shortPeriod];
  }
}

/** Evening star: long white, short body gapping up, black closing deep into the first body. −100. */
export function cdleveningstar(c: Candles, out: Int32Array): void {
  star(c, out, 1);
}

/** Morning star: long black, short body gapping down, white closing deep into the first body. +100. */
export function cdlmorningstar(c: Candles, out: Int32Array): void {
  star(c, out, -1);
}
