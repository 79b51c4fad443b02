/**
 * Runs detectors over one series and lists what they found, in columns.
 */
import { DETECTORS, patternSeries, type PatternInput, type PatternKey } from './catalog.js';

/** Detections of one series, pattern by pattern and in bar order within a pattern. */
export interface Detections {
  /** The bar of each detection (an index into the series). */
  bar: Int32Array;
  /** The pattern of each detection: an index into the keys detection ran with. */
  pattern: Uint16Array;
  /** ± strength: the sign is the direction (+ bullish, − bearish). */
  value: Int32Array;
}

class Growing {
  bar = new Int32Array(1024);
  pattern = new Uint16Array(1024);
  value = new Int32Array(1024);
  length = 0;

  push(bar: number, pattern: number, value: number): void {
    if (this.length === this.bar.length) {
      const grow = <T extends Int32Array | Uint16Array>(from: T, to: T): T => {
        to.set(from);
        return to;
      };
      this.bar = grow(this.bar, new Int32Array(this.length * 2));
      this.pattern = grow(this.pattern, new Uint16Array(this.length * 2));
      this.value = grow(this.value, new Int32Array(this.length * 2));
    }
    this.bar[this.length] = bar;
    this.pattern[this.length] = pattern;
    this.value[this.length] = value;
    this.length++;
  }

  done(): Detections {
    return {
      bar: this.bar.slice(0, this.length),
      pattern: this.pattern.slice(0, this.length),
      value: this.value.slice(0, this.length),
    };
  }
}

/**
 * The detections of `keys` on bars `from` onwards; the bars before `from` only serve as
 * history (a detection needs its pattern's lookback of earlier bars, and never reads a later one).
 */
export function detectPatterns(bars: PatternInput, keys: readonly PatternKey[], from = 0): Detections {
  const series = patternSeries(bars);
  const length = bars.close.length;
  const out = new Int32Array(length);
  const found = new Growing();
  keys.forEach((key, pattern) => {
    DETECTORS[key].detect(series, out);
    for (let i = from; i < length; i++) if (out[i] !== 0) found.push(i, pattern, out[i]);
  });
  return found.done();
}
