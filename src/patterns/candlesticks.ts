/**
 * The TA-Lib candlestick set: each pattern's kernel and lookback under TA-Lib's function name
 * in lower case.
 */
import type { Candles } from './candles.js';
import * as single from './candlesticks-single.js';
import * as three from './candlesticks-three.js';
import * as two from './candlesticks-two.js';

/** A candlestick kernel: TA-Lib's output for every bar into `out`, 0 on its lookback bars. */
export interface CandlestickKernel {
  /** Bars before the first one the pattern can judge (TA-Lib's `*_Lookback()`). */
  lookback: number;
  run(candles: Candles, out: Int32Array): void;
  /** One line: what the pattern is and what it outputs. */
  summary: string;
}

/** The candlestick kernels by TA-Lib function name in lower case. */
export const CANDLESTICKS = {
  cdl2crows: { lookback: three.CDL2CROWS_LOOKBACK, run: three.cdl2crows, summary: 'Two Crows (−100)' },
  cdl3blackcrows: { lookback: three.CDL3BLACKCROWS_LOOKBACK, run: three.cdl3blackcrows, summary: 'Three Black Crows (−100)' },
  cdl3inside: { lookback: three.CDL3INSIDE_LOOKBACK, run: three.cdl3inside, summary: 'Three Inside Up/Down (±100)' },
  cdl3outside: { lookback: three.CDL3OUTSIDE_LOOKBACK, run: three.cdl3outside, summary: 'Three Outside Up/Down (±100)' },
  cdl3whitesoldiers: {
    lookback: three.CDL3WHITESOLDIERS_LOOKBACK,
    run: three.cdl3whitesoldiers,
    summary: 'Three Advancing White Soldiers (+100)',
  },
  cdldarkcloudcover: {
    lookback: two.CDLDARKCLOUDCOVER_LOOKBACK,
    run: two.cdldarkcloudcover,
    summary: 'Dark Cloud Cover, penetration 0.5 (−100)',
  },
  cdldoji: { lookback: single.CDLDOJI_LOOKBACK, run: single.cdldoji, summary: 'Doji (+100)' },
  cdldojistar: { lookback: two.CDLDOJISTAR_LOOKBACK, run: two.cdldojistar, summary: 'Doji Star (±100)' },
  cdldragonflydoji: {
    lookback: single.CDLDRAGONFLYDOJI_LOOKBACK,
    run: single.cdldragonflydoji,
    summary: 'Dragonfly Doji (+100)',
  },
  cdlengulfing: { lookback: two.CDLENGULFING_LOOKBACK, run: two.cdlengulfing, summary: 'Engulfing (±100, ±80)' },
  cdleveningstar: {
    lookback: three.CDLEVENINGSTAR_LOOKBACK,
    run: three.cdleveningstar,
    summary: 'Evening Star, penetration 0.3 (−100)',
  },
  cdlgravestonedoji: {
    lookback: single.CDLGRAVESTONEDOJI_LOOKBACK,
    run: single.cdlgravestonedoji,
    summary: 'Gravestone Doji (+100)',
  },
  cdlhammer: { lookback: single.CDLHAMMER_LOOKBACK, run: single.cdlhammer, summary: 'Hammer (+100)' },
  cdlhangingman: { lookback: single.CDLHANGINGMAN_LOOKBACK, run: single.cdlhangingman, summary: 'Hanging Man (−100)' },
  cdlharami: { lookback: two.CDLHARAMI_LOOKBACK, run: two.cdlharami, summary: 'Harami (±100, ±80)' },
  cdlharamicross: { lookback: two.CDLHARAMICROSS_LOOKBACK, run: two.cdlharamicross, summary: 'Harami Cross (±100, ±80)' },
  cdlinvertedhammer: {
    lookback: single.CDLINVERTEDHAMMER_LOOKBACK,
    run: single.cdlinvertedhammer,
    summary: 'Inverted Hammer (+100)',
  },
  cdlmarubozu: { lookback: single.CDLMARUBOZU_LOOKBACK, run: single.cdlmarubozu, summary: 'Marubozu (±100)' },
  cdlmorningstar: {
    lookback: three.CDLMORNINGSTAR_LOOKBACK,
    run: three.cdlmorningstar,
    summary: 'Morning Star, penetration 0.3 (+100)',
  },
  cdlpiercing: { lookback: two.CDLPIERCING_LOOKBACK, run: two.cdlpiercing, summary: 'Piercing Pattern (+100)' },
  cdlshootingstar: {
    lookback: single.CDLSHOOTINGSTAR_LOOKBACK,
    run: single.cdlshootingstar,
    summary: 'Shooting Star (−100)',
  },
  cdlspinningtop: { lookback: single.CDLSPINNINGTOP_LOOKBACK, run: single.cdlspinningtop, summary: 'Spinning Top (±100)' },
} as const satisfies Record<string, CandlestickKernel>;

export type CandlestickKey = keyof typeof CANDLESTICKS;

/** The candlestick keys in alphabetical order. */
export const CANDLESTICK_KEYS = Object.keys(CANDLESTICKS).sort() as CandlestickKey[];
