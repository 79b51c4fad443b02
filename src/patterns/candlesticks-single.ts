/**
 * TA-Lib's one-candle patterns, ported line for line from TA-Lib C 0.6 (`ta_CDL*.c` in the
 * `talib` npm package 2.0.5) with its default candle settings.
 *
 * Each kernel writes TA-Lib's output for every bar into `out` (±100; 0 for no pattern) and 0 for
 * the bars of its lookback, which lack the history the pattern needs. Running totals start at
 * the first bar with a full lookback, as TA-Lib's do when called on the whole series.
 */
import {
  CANDLE_SETTINGS as S,
  clearLookback,
  average,
  bodyBottom,
  bodyTop,
  color,
  type Candles,
  rangeOf,
  windowTotal,
} from './candles.js';

/** Bars before the first one `cdldoji` can judge. */
export const CDLDOJI_LOOKBACK = S.bodyDoji.period;

/** Doji: a real body at most 10 % of the average high-low range. Always +100. */
export function cdldoji(c: Candles, out: Int32Array): void {
  const { close, body } = c;
  const { bodyDoji } = S;
  const length = close.length;
  const start = CDLDOJI_LOOKBACK;
  if (!clearLookback(out, start)) return;
  const dojiRange = rangeOf(c, bodyDoji);
  let dojiTotal = windowTotal(dojiRange, start - bodyDoji.period, start);
  for (let i = start; i < length; i++) {
    out[i] = body[i] <= average(bodyDoji, dojiTotal, dojiRange, i) ? 100 : 0;
    dojiTotal += dojiRange[i] - dojiRange[i - bodyDoji.period];
  }
}

/** Bars before the first one the doji-with-one-shadow patterns can judge. */
export const CDLDRAGONFLYDOJI_LOOKBACK = Math.max(S.bodyDoji.period, S.shadowVeryShort.period);
export const CDLGRAVESTONEDOJI_LOOKBACK = CDLDRAGONFLYDOJI_LOOKBACK;

/** A doji whose one shadow is very short and the other is not: dragonfly (long lower) or gravestone (long upper). */
function dojiWithOneShadow(c: Candles, out: Int32Array, short: Float64Array, long: Float64Array): void {
  const { close, body } = c;
  const { bodyDoji, shadowVeryShort } = S;
  const length = close.length;
  const start = CDLDRAGONFLYDOJI_LOOKBACK;
  if (!clearLookback(out, start)) return;
  const dojiRange = rangeOf(c, bodyDoji);
  const shadowRange = rangeOf(c, shadowVeryShort);
  let dojiTotal = windowTotal(dojiRange, start - bodyDoji.period, start);
  let shadowTotal = windowTotal(shadowRange, start - shadowVeryShort.period, start);
  for (let i = start; i < length; i++) {
    out[i] =
      body[i] <= average(bodyDoji, dojiTotal, dojiRange, i) &&
      short[i] < average(shadowVeryShort, shadowTotal, shadowRange, i) &&
      long[i] > average(shadowVeryShort, shadowTotal, shadowRange, i)
        ? 100
        : 0;
    dojiTotal += dojiRange[i] - dojiRange[i - bodyDoji.period];
    shadowTotal += shadowRange[i] - shadowRange[i - shadowVeryShort.period];
  }
}

/** Dragonfly doji: a doji with a very short upper shadow and a lower one that is not. Always +100. */
export function cdldragonflydoji(c: Candles, out: Int32Array): void {
  dojiWithOneShadow(c, out, c.upper, c.lower);
}

/** Gravestone doji: a doji with a very short lower shadow and an upper one that is not. Always +100. */
export function cdlgravestonedoji(c: Candles, out: Int32Array): void {
  dojiWithOneShadow(c, out, c.lower, c.upper);
}

/** Bars before the first one the hammer family (hammer, hanging man) can judge. */
export const CDLHAMMER_LOOKBACK = Math.max(S.bodyShort.period, S.shadowLong.period, S.shadowVeryShort.period, S.near.period) + 1;
export const CDLHANGINGMAN_LOOKBACK = CDLHAMMER_LOOKBACK;

/**
 * A small body with a long lower shadow and a very short upper one, whose body bottom sits near
 * the previous bar's low (hammer, +100) or near its high (hanging man, −100).
 */
function longLowerShadow(c: Candles, out: Int32Array, nearHigh: boolean): void {
  const { open, high, low, close, body, upper, lower } = c;
  const { bodyShort, shadowLong, shadowVeryShort, near } = S;
  const length = close.length;
  const start = CDLHAMMER_LOOKBACK;
  if (!clearLookback(out, start)) return;
  const bodyRange = rangeOf(c, bodyShort);
  const longRange = rangeOf(c, shadowLong);
  const veryShortRange = rangeOf(c, shadowVeryShort);
  const nearRange = rangeOf(c, near);
  let bodyTotal = windowTotal(bodyRange, start - bodyShort.period, start);
  let longTotal = windowTotal(longRange, start - shadowLong.period, start);
  let veryShortTotal = windowTotal(veryShortRange, start - shadowVeryShort.period, start);
  let nearTotal = windowTotal(nearRange, start - 1 - near.period, start - 1);
  for (let i = start; i < length; i++) {
    if (
      body[i] < average(bodyShort, bodyTotal, bodyRange, i) &&
      lower[i] > average(shadowLong, longTotal, longRange, i) &&
      upper[i] < average(shadowVeryShort, veryShortTotal, veryShortRange, i)
    ) {
      const nearDistance = average(near, nearTotal, nearRange, i - 1);
      const bottom = bodyBottom(open, close, i);
      if (nearHigh) out[i] = bottom >= high[i - 1] - nearDistance ? -100 : 0;
      else out[i] = bottom <= low[i - 1] + nearDistance ? 100 : 0;
    } else out[i] = 0;
    bodyTotal += bodyRange[i] - bodyRange[i - bodyShort.period];
    longTotal += longRange[i] - longRange[i - shadowLong.period];
    veryShortTotal += veryShortRange[i] - veryShortRange[i - shadowVeryShort.period];
    nearTotal += nearRange[i - 1] - nearRange[i - 1 - near.period];
  }
}

/** Hammer: small body, long lower shadow, very short upper shadow, body near the prior low. +100. */
export function cdlhammer(c: Candles, out: Int32Array): void {
  longLowerShadow(c, out, false);
}

/** Hanging man: the hammer's shape with its body near the prior high. −100. */
export function cdlhangingman(c: Candles, out: Int32Array): void {
  longLowerShadow(c, out, true);
}

/** Bars before the first one the inverted hammer and shooting star can judge. */
export const CDLINVERTEDHAMMER_LOOKBACK = Math.max(S.bodyShort.period, S.shadowLong.period, S.shadowVeryShort.period) + 1;
export const CDLSHOOTINGSTAR_LOOKBACK = CDLINVERTEDHAMMER_LOOKBACK;

/**
 * A small body with a long upper shadow and a very short lower one, gapping below the previous
 * body (inverted hammer, +100) or above it (shooting star, −100).
 */
function longUpperShadow(c: Candles, out: Int32Array, gapUp: boolean): void {
  const { open, close, body, upper, lower } = c;
  const { bodyShort, shadowLong, shadowVeryShort } = S;
  const length = close.length;
  const start = CDLINVERTEDHAMMER_LOOKBACK;
  if (!clearLookback(out, start)) return;
  const bodyRange = rangeOf(c, bodyShort);
  const longRange = rangeOf(c, shadowLong);
  const veryShortRange = rangeOf(c, shadowVeryShort);
  let bodyTotal = windowTotal(bodyRange, start - bodyShort.period, start);
  let longTotal = windowTotal(longRange, start - shadowLong.period, start);
  let veryShortTotal = windowTotal(veryShortRange, start - shadowVeryShort.period, start);
  for (let i = start; i < length; i++) {
    if (
      body[i] < average(bodyShort, bodyTotal, bodyRange, i) &&
      upper[i] > average(shadowLong, longTotal, longRange, i) &&
      lower[i] < average(shadowVeryShort, veryShortTotal, veryShortRange, i)
    ) {
      if (gapUp) out[i] = bodyBottom(open, close, i) > bodyTop(open, close, i - 1) ? -100 : 0;
      else out[i] = bodyTop(open, close, i) < bodyBottom(open, close, i - 1) ? 100 : 0;
    } else out[i] = 0;
    bodyTotal += bodyRange[i] - bodyRange[i - bodyShort.period];
    longTotal += longRange[i] - longRange[i - shadowLong.period];
    veryShortTotal += veryShortRange[i] - veryShortRange[i - shadowVeryShort.period];
  }
}

/** Inverted hammer: small body, long upper shadow, very short lower shadow, gapping down. +100. */
export function cdlinvertedhammer(c: Candles, out: Int32Array): void {
  longUpperShadow(c, out, false);
}

/** Shooting star: the inverted hammer's shape gapping up. −100. */
export function cdlshootingstar(c: Candles, out: Int32Array): void {
  longUpperShadow(c, out, true);
}

/** Bars before the first one `cdlmarubozu` can judge. */
export const CDLMARUBOZU_LOOKBACK = Math.max(S.bodyLong.period, S.shadowVeryShort.period);

/** Marubozu: a long body with both shadows very short. ±100 by the candle's colour. */
export function cdlmarubozu(c: Candles, out: Int32Array): void {
  const { open, close, body, upper, lower } = c;
  const { bodyLong, shadowVeryShort } = S;
  const length = close.length;
  const start = CDLMARUBOZU_LOOKBACK;
  if (!clearLookback(out, start)) return;
  const longRange = rangeOf(c, bodyLong);
  const shadowRange = rangeOf(c, shadowVeryShort);
  let longTotal = windowTotal(longRange, start - bodyLong.period, start);
  let shadowTotal = windowTotal(shadowRange, start - shadowVeryShort.period, start);
  for (let i = start; i < length; i++) {
    out[i] =
      body[i] > average(bodyLong, longTotal, longRange, i) &&
      upper[i] < average(shadowVeryShort, shadowTotal, shadowRange, i) &&
      lower[i] < average(shadowVeryShort, shadowTotal, shadowRange, i)
        ? color(open, close, i) * 100
        : 0;
    longTotal += longRange[i] - longRange[i - bodyLong.period];
    shadowTotal += shadowRange[i] - shadowRange[i - shadowVeryShort.period];
  }
}

/** Bars before the first one `cdlspinningtop` can judge. */
export const CDLSPINNINGTOP_LOOKBACK = S.bodyShort.period;

/** Spinning top: a short body with both shadows longer than it. ±100 by the candle's colour. */
export function cdlspinningtop(c: Candles, out: Int32Array): void {
  const { open, close, body, upper, lower } = c;
  const { bodyShort } = S;
  const length = close.length;
  const start = CDLSPINNINGTOP_LOOKBACK;
  if (!clearLookback(out, start)) return;
  const bodyRange = rangeOf(c, bodyShort);
  let bodyTotal = windowTotal(bodyRange, start - bodyShort.period, start);
  for (let i = start; i < length; i++) {
    out[i] =
      body[i] < average(bodyShort, bodyTotal, bodyRange, i) && upper[i] > body[i] && lower[i] > body[i]
        ? color(open, close, i) * 100
        : 0;
    bodyTotal += bodyRange[i] - bodyRange[i - bodyShort.period];
  }
}
