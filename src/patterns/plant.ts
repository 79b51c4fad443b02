/**
 * Planting patterns in daily bars: rewrites the bars of chosen sessions so that a detector
 * fires exactly there, and optionally sets what the price does next. Scenario runs use it to
 * build data with a known ground truth (docs/patterns.md, "Planting patterns").
 *
 * A planted pattern is drawn to scale: in units of the mean high-low range `u` and the mean real
 * body `b` of the 10 bars before the pattern's first bar, from the close `p` before it, with
 * margins wide enough for TA-Lib's running averages to agree whatever came before. Every bar
 * after the pattern is then scaled by the planted close over the old one, so the path goes on
 * from the planted close with its own returns; `then` tilts the next bars so the close that many
 * bars later is exactly `returnPct` away from the planted close. `checkPlantings` runs the
 * detectors on the result: the planted pattern must be found on its bar with its direction.
 */
import type { BarColumns } from '../bars/columns.js';
import { DETECTORS, patternSeries, type PatternKey } from './catalog.js';

export type Direction = 'bullish' | 'bearish';

/** One pattern to plant. */
export interface Planting {
  pattern: PlantableKey;
  /** The bar the detection must land on (the pattern's last bar). */
  bar: number;
  direction: Direction;
  /** What follows: the close `bars` later is (1 + returnPct / 100) × the planted close. */
  then?: { bars: number; returnPct: number };
}

/** One bar of a pattern's shape. */
type Shape = { open: number; high: number; low: number; close: number; volume?: number };

/** The scale a shape is drawn in, measured on the bars before its first bar. */
interface Scale {
  bars: BarColumns;
  /** The pattern's last bar. */
  at: number;
  /** The close before the pattern's first bar. */
  p: number;
  /** Mean high-low range of the 10 bars before the pattern. */
  u: number;
  /** Mean real body of the same bars. */
  b: number;
  /** +1 for a bullish planting, −1 for a bearish one. */
  sign: 1 | -1;
}

interface Template {
  /** Bars the shape rewrites, ending on the planting's bar. */
  span: number;
  directions: readonly Direction[];
  build(scale: Scale): Shape[];
}

const both = ['bullish', 'bearish'] as const;

/** A bar from open to close with `wick` of range beyond either end of the body. */
function candle(open: number, close: number, wick = 0): Shape {
  return { open, close, high: Math.max(open, close) + wick, low: Math.min(open, close) - wick };
}

function extreme(values: Float64Array, from: number, to: number, sign: 1 | -1): number {
  let best = values[from];
  for (let k = from + 1; k < to; k++) if (sign * values[k] > sign * best) best = values[k];
  return best;
}

function mean(values: Float64Array, from: number, to: number): number {
  let sum = 0;
  for (let k = from; k < to; k++) sum += values[k];
  return sum / (to - from);
}

/**
 * A long candle against the planting's direction, a small body gapping beyond it, then a candle
 * in the planting's direction closing deep into the first body (morning or evening star).
 */
function star({ p, u, b, sign }: Scale): Shape[] {
  const long = 3 * b;
  const firstClose = p - sign * long;
  const middleOpen = firstClose - sign * 0.3 * u;
  const middleClose = middleOpen - sign * 0.1 * b;
  return [
    candle(p, firstClose, 0.1 * u),
    candle(middleOpen, middleClose, 0.05 * u),
    candle(middleClose + sign * 0.1 * u, firstClose + sign * 0.6 * long, 0.1 * u),
  ];
}

/**
 * A close `margin` ranges beyond the highest high (bullish) or lowest low (bearish) of the
 * previous `period` bars, with `wick` ranges of shadow: breakouts and new extremes.
 */
function beyond(period: number, margin: number, wick: number): Template['build'] {
  return ({ bars, at, p, u, sign }) => {
    const level = extreme(sign === 1 ? bars.high : bars.low, at - period, at, sign);
    return [candle(p, level + sign * margin * u, wick * u)];
  };
}

/** An open 2 % beyond the previous high (bullish) or low (bearish), moving on in the gap's direction. */
function gap({ bars, at, u, sign }: Scale): Shape[] {
  const open = (sign === 1 ? bars.high[at - 1] : bars.low[at - 1]) * (1 + sign * 0.02);
  return [candle(open, open + sign * 0.3 * u, 0.1 * u)];
}

/** How each plantable pattern is drawn. */
export const TEMPLATES = {
  cdldoji: {
    span: 1,
    directions: ['bullish'],
    build: ({ p, u }) => [{ open: p, close: p, high: p + 0.5 * u, low: p - 0.5 * u }],
  },
  cdlengulfing: {
    span: 2,
    directions: both,
    build: ({ p, u, sign }) => [candle(p, p - sign * 0.5 * u, 0.1 * u), candle(p - sign * 0.6 * u, p + sign * 0.3 * u, 0.1 * u)],
  },
  cdlharami: {
    span: 2,
    directions: both,
    build: ({ p, u, b, sign }) => {
      const close = p - sign * 3 * b;
      return [candle(p, close, 0.1 * u), candle(close + sign * 1.4 * b, close + sign * 1.6 * b)];
    },
  },
  cdlhammer: {
    span: 1,
    directions: ['bullish'],
    build: ({ bars, at, u, b }) => {
      const open = bars.low[at - 1];
      const close = open + 0.3 * b;
      return [{ open, close, high: close, low: open - u }];
    },
  },
  cdlshootingstar: {
    span: 1,
    directions: ['bearish'],
    build: ({ bars, at, u, b }) => {
      const close = Math.max(bars.open[at - 1], bars.close[at - 1]) + 0.2 * u;
      const open = close + 0.3 * b;
      return [{ open, close, high: open + u, low: close }];
    },
  },
  cdlmarubozu: {
    span: 1,
    directions: both,
    build: ({ p, b, sign }) => [candle(p, p + sign * 3 * b)],
  },
  cdlpiercing: {
    span: 2,
    directions: ['bullish'],
    build: ({ p, u, b }) => {
      const first = candle(p, p - 3 * b, 0.1 * u);
      return [first, candle(first.low - 0.1 * u, first.close + 2.1 * b, 0.05 * u)];
    },
  },
  cdldarkcloudcover: {
    span: 2,
    directions: ['bearish'],
    build: ({ p, u, b }) => {
      const first = candle(p, p + 3 * b, 0.1 * u);
      return [first, candle(first.high + 0.1 * u, first.close - 2.1 * b, 0.05 * u)];
    },
  },
  cdlmorningstar: { span: 3, directions: ['bullish'], build: star },
  cdleveningstar: { span: 3, directions: ['bearish'], build: star },
  breakout_20: { span: 1, directions: ['bullish'], build: beyond(20, 0.5, 0.1) },
  breakdown_20: { span: 1, directions: ['bearish'], build: beyond(20, 0.5, 0.1) },
  high_52w: { span: 1, directions: ['bullish'], build: beyond(252, 0.3, 0.2) },
  low_52w: { span: 1, directions: ['bearish'], build: beyond(252, 0.3, 0.2) },
  volume_spike: {
    span: 1,
    directions: both,
    build: ({ bars, at, sign }) => {
      const [low, high] = [bars.open[at], bars.close[at]].sort((x, y) => x - y);
      return [
        {
          open: sign === 1 ? low : high,
          close: sign === 1 ? high : low,
          high: bars.high[at],
          low: bars.low[at],
          volume: 5 * mean(bars.volume, at - 20, at) + 1,
        },
      ];
    },
  },
  gap_up: { span: 1, directions: ['bullish'], build: gap },
  gap_down: { span: 1, directions: ['bearish'], build: gap },
  volatility_surge: {
    span: 1,
    directions: both,
    build: ({ bars, at, p, sign }) => {
      let ranges = 0;
      for (let k = at - 20; k < at; k++) {
        ranges += Math.max(bars.high[k], bars.close[k - 1]) - Math.min(bars.low[k], bars.close[k - 1]);
      }
      return [candle(p, p + sign * 4 * (ranges / 20))];
    },
  },
  mean_reversion: {
    span: 1,
    directions: both,
    build: ({ bars, at, p, u, sign }) => {
      const average = mean(bars.close, at - 19, at);
      let squares = 0;
      for (let k = at - 19; k < at; k++) squares += (bars.close[k] - average) ** 2;
      const deviation = Math.sqrt(squares / 19);
      // Against the stretch: a bullish signal is a close far below the mean.
      return [candle(p, average - sign * (6 * deviation + u), 0.1 * u)];
    },
  },
  support_resistance: {
    span: 1,
    directions: both,
    build: ({ bars, at, u, sign }) => {
      const level = sign === 1 ? extreme(bars.low, at - 20, at, -1) : extreme(bars.high, at - 20, at, 1);
      // Touches the 20-bar level and closes in the far half of the bar, away from it.
      const far = level + sign * u;
      return [
        { open: level + sign * 0.3 * u, close: level + sign * 0.8 * u, high: Math.max(level, far), low: Math.min(level, far) },
      ];
    },
  },
} as const satisfies Partial<Record<PatternKey, Template>>;

export type PlantableKey = keyof typeof TEMPLATES;

/** The patterns that can be planted. */
export const PLANTABLE_KEYS = Object.keys(TEMPLATES) as PlantableKey[];

/** Whether a pattern can be planted. */
export function isPlantable(key: string): key is PlantableKey {
  return Object.hasOwn(TEMPLATES, key);
}

/** The first bar a pattern can be planted on: its detector's lookback plus its span of history. */
export function firstPlantableBar(key: PlantableKey): number {
  return Math.max(DETECTORS[key].lookback, 11) + TEMPLATES[key].span;
}

function scaleBars(bars: BarColumns, from: number, to: number, factor: (k: number) => number): void {
  for (let k = from; k < to; k++) {
    const f = factor(k);
    bars.open[k] *= f;
    bars.high[k] *= f;
    bars.low[k] *= f;
    bars.close[k] *= f;
  }
}

/**
 * Plants each pattern in place, in bar order. Throws when a planting cannot be drawn: a bar too
 * early for the pattern's history, past the end, a direction the pattern does not have, or a
 * `then` reaching past the last bar.
 */
export function plantPatterns(bars: BarColumns, plantings: readonly Planting[]): void {
  const length = bars.close.length;
  for (const planting of [...plantings].sort((a, b) => a.bar - b.bar)) {
    const template: Template = TEMPLATES[planting.pattern];
    const { bar, direction, then } = planting;
    if (!template.directions.includes(direction)) throw new RangeError(`${planting.pattern} cannot be ${direction}`);
    if (bar < firstPlantableBar(planting.pattern) || bar >= length) {
      throw new RangeError(`${planting.pattern} needs bars ${firstPlantableBar(planting.pattern)} … ${length - 1}; got ${bar}`);
    }
    if (then && bar + then.bars >= length)
      throw new RangeError(`${planting.pattern} at bar ${bar}: then reaches past the last bar`);
    const first = bar - template.span + 1;
    const highLow = mean(bars.high, first - 10, first) - mean(bars.low, first - 10, first);
    let bodies = 0;
    for (let k = first - 10; k < first; k++) bodies += Math.abs(bars.close[k] - bars.open[k]);
    const p = bars.close[first - 1];
    const u = highLow > 0 ? highLow : 0.01 * p;
    const b = bodies > 0 ? bodies / 10 : 0.1 * u;
    const oldClose = bars.close[bar];
    const shapes = template.build({ bars, at: bar, p, u, b, sign: direction === 'bullish' ? 1 : -1 });
    shapes.forEach((shape, k) => {
      const i = first + k;
      bars.open[i] = shape.open;
      bars.close[i] = shape.close;
      bars.high[i] = Math.max(shape.high, shape.open, shape.close);
      bars.low[i] = Math.min(shape.low, shape.open, shape.close);
      if (shape.volume !== undefined) bars.volume[i] = Math.round(shape.volume);
    });
    const planted = bars.close[bar];
    scaleBars(bars, bar + 1, length, () => planted / oldClose);
    if (then) {
      const tilt = (1 + then.returnPct / 100) / (bars.close[bar + then.bars] / planted);
      scaleBars(bars, bar + 1, length, (k) => tilt ** Math.min(1, (k - bar) / then.bars));
    }
  }
}

/** What the detectors found on a planted bar. */
export interface PlantingCheck {
  pattern: PlantableKey;
  bar: number;
  direction: Direction;
  /** The detector's output on the bar (0: not found). */
  value: number;
  found: boolean;
}

/** Runs each planted pattern's detector: found when it fires on the bar with the planted direction. */
export function checkPlantings(bars: BarColumns, plantings: readonly Planting[]): PlantingCheck[] {
  const series = patternSeries(bars);
  const outputs = new Map<PlantableKey, Int32Array>();
  return plantings.map(({ pattern, bar, direction }) => {
    let out = outputs.get(pattern);
    if (!out) {
      out = new Int32Array(bars.close.length);
      DETECTORS[pattern].detect(series, out);
      outputs.set(pattern, out);
    }
    const value = out[bar];
    return { pattern, bar, direction, value, found: direction === 'bullish' ? value > 0 : value < 0 };
  });
}
