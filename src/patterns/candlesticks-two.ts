/**
 * TA-Lib's two-candle patterns, ported line for line from TA-Lib C 0.6 (`ta_CDL*.c` in the
 * `talib` npm package 2.0.5) with its default candle settings and penetrations.
 *
 * Each kernel writes TA-Lib's output for every bar into `out` and 0 for the bars of its
 * lookback. Running totals start at the first bar with a full lookback, as TA-Lib's do when
 * called on the whole series.
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
  type CandleSetting,
  rangeOf,
  windowTotal,
} from './candles.js';

/** TA-Lib's engulfing lookback: 2, though the pattern reads one bar back. */
export const CDLENGULFING_LOOKBACK = 2;

/**
 * Engulfing: a candle whose body engulfs the previous, opposite-coloured body. ±100 by the
 * candle's colour, ±80 when one end of the bodies matches.
 */
export function cdlengulfing(c: Candles, out: Int32Array): void {
  const { open, close } = c;
  const length = close.length;
  const start = CDLENGULFING_LOOKBACK;
  if (!clearLookback(out, start)) return;
  for (let i = start; i < length; i++) {
    const now = color(open, close, i);
    const before = color(open, close, i - 1);
    if (
      (now === 1 &&
        before === -1 &&
        ((close[i] >= open[i - 1] && open[i] < close[i - 1]) || (close[i] > open[i - 1] && open[i] <= close[i - 1]))) ||
      (now === -1 &&
        before === 1 &&
        ((open[i] >= close[i - 1] && close[i] < open[i - 1]) || (open[i] > close[i - 1] && close[i] <= open[i - 1])))
    )
      out[i] = open[i] !== close[i - 1] && close[i] !== open[i - 1] ? now * 100 : now * 80;
    else out[i] = 0;
  }
}

/** Bars before the first one `cdlharami` can judge. */
export const CDLHARAMI_LOOKBACK = Math.max(S.bodyShort.period, S.bodyLong.period) + 1;
/** Bars before the first one `cdlharamicross` can judge. */
export const CDLHARAMICROSS_LOOKBACK = Math.max(S.bodyDoji.period, S.bodyLong.period) + 1;

/**
 * A long body followed by a small one (`small`: short body or doji) inside it: −100 × the long
 * candle's colour when strictly inside, −80 when one end matches.
 */
function harami(c: Candles, out: Int32Array, small: CandleSetting, start: number): void {
  const { open, close, body } = c;
  const { bodyLong } = S;
  const length = close.length;
  if (!clearLookback(out, start)) return;
  const longRange = rangeOf(c, bodyLong);
  const smallRange = rangeOf(c, small);
  let longTotal = windowTotal(longRange, start - 1 - bodyLong.period, start - 1);
  let smallTotal = windowTotal(smallRange, start - small.period, start);
  for (let i = start; i < length; i++) {
    if (body[i - 1] > average(bodyLong, longTotal, longRange, i - 1) && body[i] <= average(small, smallTotal, smallRange, i)) {
      const top = bodyTop(open, close, i);
      const bottom = bodyBottom(open, close, i);
      const previousTop = bodyTop(open, close, i - 1);
      const previousBottom = bodyBottom(open, close, i - 1);
      if (top < previousTop && bottom > previousBottom) out[i] = -color(open, close, i - 1) * 100;
      else if (top <= previousTop && bottom >= previousBottom) out[i] = -color(open, close, i - 1) * 80;
      else out[i] = 0;
    } else out[i] = 0;
    longTotal += longRange[i - 1] - longRange[i - 1 - bodyLong.period];
    smallTotal += smallRange[i] - smallRange[i - small.period];
  }
}

/** Harami: a long body, then a short body inside it. */
export function cdlharami(c: Candles, out: Int32Array): void {
  harami(c, out, S.bodyShort, CDLHARAMI_LOOKBACK);
}

/** Harami cross: a long body, then a doji inside it. */
export function cdlharamicross(c: Candles, out: Int32Array): void {
  harami(c, out, S.bodyDoji, CDLHARAMICROSS_LOOKBACK);
}

/** The penetration TA-Lib's dark cloud cover uses by default. */
export const DARK_CLOUD_PENETRATION = 0.5;
/** Bars before the first one `cdldarkcloudcover` can judge. */
export const CDLDARKCLOUDCOVER_LOOKBACK = S.bodyLong.period + 1;

/**
 * Dark cloud cover: a long white candle, then a black one opening above its high and closing
 * below its close by more than half its body, but above its open. −100.
 */
export function cdldarkcloudcover(c: Candles, out: Int32Array): void {
  const { open, high, close, body } = c;
  const { bodyLong } = S;
  const length = close.length;
  const start = CDLDARKCLOUDCOVER_LOOKBACK;
  if (!clearLookback(out, start)) return;
  const longRange = rangeOf(c, bodyLong);
  let longTotal = windowTotal(longRange, start - 1 - bodyLong.period, start - 1);
  for (let i = start; i < length; i++) {
    out[i] =
      color(open, close, i - 1) === 1 &&
      body[i - 1] > average(bodyLong, longTotal, longRange, i - 1) &&
      color(open, close, i) === -1 &&
      open[i] > high[i - 1] &&
      close[i] > open[i - 1] &&
      close[i] < close[i - 1] - body[i - 1] * DARK_CLOUD_PENETRATION
        ? -100
        : 0;
    longTotal += longRange[i - 1] - longRange[i - 1 - bodyLong.period];
  }
}

/** Bars before the first one `cdlpiercing` can judge. */
export const CDLPIERCING_LOOKBACK = S.bodyLong.period + 1;

/**
 * Piercing: a long black candle, then a long white one opening below its low and closing above
 * the middle of its body, but below its open. +100.
 */
export function cdlpiercing(c: Candles, out: Int32Array): void {
  const { open, low, close, body } = c;
  const { bodyLong } = S;
  const length = close.length;
  const start = CDLPIERCING_LOOKBACK;
  if (!clearLookback(out, start)) return;
  const longRange = rangeOf(c, bodyLong);
  // Two totals, one per candle, each kept on its own as TA-Lib keeps BodyLongPeriodTotal[1] and [0].
  let previousTotal = windowTotal(longRange, start - 1 - bodyLong.period, start - 1);
  let currentTotal = windowTotal(longRange, start - bodyLong.period, start);
  for (let i = start; i < length; i++) {
    out[i] =
      color(open, close, i - 1) === -1 &&
      body[i - 1] > average(bodyLong, previousTotal, longRange, i - 1) &&
      color(open, close, i) === 1 &&
      body[i] > average(bodyLong, currentTotal, longRange, i) &&
      open[i] < low[i - 1] &&
      close[i] < open[i - 1] &&
      close[i] > close[i - 1] + body[i - 1] * 0.5
        ? 100
        : 0;
    previousTotal += longRange[i - 1] - longRange[i - 1 - bodyLong.period];
    currentTotal += longRange[i] - longRange[i - bodyLong.period];
  }
}

/** Bars before the first one `cdldojistar` can judge. */
export const CDLDOJISTAR_LOOKBACK = Math.max(S.bodyDoji.period, S.bodyLong.period) + 1;

/**
 * Doji star: a long candle, then a doji whose body gaps away from it in its direction. −100 ×
 * the long candle's colour (a reversal warning).
 */
export function cdldojistar(c: Candles, out: Int32Array): void {
  const { open, close, body } = c;
  const { bodyLong, bodyDoji } = S;
  const length = close.length;
  const start = CDLDOJISTAR_LOOKBACK;
  if (!clearLookback(out, start)) return;
  const longRange = rangeOf(c, bodyLong);
  const dojiRange = rangeOf(c, bodyDoji);
  let longTotal = windowTotal(longRange, start - 1 - bodyLong.period, start - 1);
  let dojiTotal = windowTotal(dojiRange, start - bodyDoji.period, start);
  for (let i = start; i < length; i++) {
    const previousColor = color(open, close, i - 1);
    out[i] =
      body[i - 1] > average(bodyLong, longTotal, longRange, i - 1) &&
      body[i] <= average(bodyDoji, dojiTotal, dojiRange, i) &&
      ((previousColor === 1 && bodyGapUp(open, close, i, i - 1)) || (previousColor === -1 && bodyGapDown(open, close, i, i - 1)))
        ? -previousColor * 100
        : 0;
    longTotal += longRange[i - 1] - longRange[i - 1 - bodyLong.period];
    dojiTotal += dojiRange[i] - dojiRange[i - bodyDoji.period];
  }
}
