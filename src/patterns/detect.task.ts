import { transferOut } from '../kernels/transfer.js';
import type { PatternInput, PatternKey } from './catalog.js';
import { detectPatterns, type Detections } from './detect.js';

export interface DetectInput {
  /** One series: history first, then the bars to report on (transferred in). */
  bars: PatternInput;
  keys: PatternKey[];
  /** Index of the first bar to report on; earlier bars are history only. */
  from: number;
}

/** detectPatterns in the pool: the detections of one series, transferred back. */
export function detect(input: DetectInput): Detections {
  const found = detectPatterns(input.bars, input.keys, input.from);
  return transferOut(found, [
    found.bar.buffer as ArrayBuffer,
    found.pattern.buffer as ArrayBuffer,
    found.value.buffer as ArrayBuffer,
  ]);
}
