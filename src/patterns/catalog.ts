/**
 * Every pattern detector under its key, with the version stored beside each detection.
 *
 * A detector's version changes whenever its output could change for the same bars; detections
 * of the old and the new version are then kept side by side so their performance can be
 * compared (docs/patterns.md).
 */
import { z } from 'zod';
import { candlesOf, type Candles } from './candles.js';
import { CANDLESTICK_KEYS, CANDLESTICKS } from './candlesticks.js';
import { EVENT_KEYS, EVENTS, type EventColumns } from './events.js';

/** A series' bars as every detector reads them: candle parts and volume. */
export interface PatternSeries extends Candles, EventColumns {}

/** The columns a pattern series is built from. */
export interface PatternInput {
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
}

/** The candle parts of a series, computed once for all detectors. */
export function patternSeries(bars: PatternInput): PatternSeries {
  return { ...candlesOf(bars), volume: bars.volume };
}

export type PatternFamily = 'candlestick' | 'event';

/** One detector: its output for every bar is ± strength (the sign is the direction), or 0. */
export interface PatternDetector {
  key: string;
  family: PatternFamily;
  version: string;
  /** Bars of history a detection needs before its own bar; earlier bars never have one. */
  lookback: number;
  summary: string;
  detect(series: PatternSeries, out: Int32Array): void;
}

/** The version of each candlestick detector: a port of TA-Lib C 0.6.0 (talib npm 2.0.5). */
const CANDLESTICK_VERSION = '1.0.0+ta-lib-0.6.0';
const EVENT_VERSION = '1.0.0';

export type PatternKey = (typeof CANDLESTICK_KEYS)[number] | (typeof EVENT_KEYS)[number];

/** Every detector by key. */
export const DETECTORS: Readonly<Record<PatternKey, PatternDetector>> = Object.fromEntries([
  ...CANDLESTICK_KEYS.map((key) => {
    const { lookback, run, summary } = CANDLESTICKS[key];
    return [key, { key, family: 'candlestick', version: CANDLESTICK_VERSION, lookback, summary, detect: run }];
  }),
  ...EVENT_KEYS.map((key) => {
    const { lookback, run, summary } = EVENTS[key];
    return [key, { key, family: 'event', version: EVENT_VERSION, lookback, summary, detect: run }];
  }),
]) as Record<PatternKey, PatternDetector>;

/** Every pattern key: the candlesticks in alphabetical order, then the events. */
export const PATTERN_KEYS: readonly PatternKey[] = [...CANDLESTICK_KEYS, ...EVENT_KEYS];

/** Whether a string is a pattern key. */
export function isPatternKey(key: string): key is PatternKey {
  return Object.hasOwn(DETECTORS, key);
}

/** A pattern key, refused with the list of known keys. */
export const patternKeySchema = z
  .string()
  .refine(isPatternKey, {
    error: (issue) => `unknown pattern ${JSON.stringify(issue.input)}; known patterns: ${PATTERN_KEYS.join(', ')}`,
  })
  .transform((key) => key as PatternKey);

/** The longest lookback among the given patterns: the history to read before a range. */
export function lookbackOf(keys: readonly PatternKey[]): number {
  return keys.reduce((longest, key) => Math.max(longest, DETECTORS[key].lookback), 0);
}
