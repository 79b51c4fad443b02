import { Int32Histogram } from 'hdr-histogram-js';

/** How a latency or duration sample reads for a person, in milliseconds. */
export interface PerformanceStat {
  min: number;
  max: number;
  mean: number;
  median: number;
  p95: number;
  p99: number;
  sampleCount: number;
}

// Values are recorded as whole microseconds: HDR histograms count integers, and a microsecond
// is finer than anything tickforge times. Two significant digits keep every quantile within
// 1 % of the true sample quantile and a histogram small (a few kB) for any range.
const MICROS_PER_MS = 1_000;
const SIGNIFICANT_DIGITS = 2;

function newHistogram(): Int32Histogram {
  const histogram = new Int32Histogram(1, 2, SIGNIFICANT_DIGITS);
  histogram.autoResize = true;
  return histogram;
}

/**
 * The stored form: exact count, sum, min and max, and the histogram as the flat list
 * `[bucketValue, count, bucketValue, count, …]` of its non-empty buckets. A reader streams
 * stored sketches into one accumulator bucket by bucket, the way HDR's own `add` merges, without
 * allocating a histogram per stored sketch.
 */
interface SerializedSketch {
  count: number;
  sum: number;
  min: number;
  max: number;
  buckets: number[];
}

function isSerializedSketch(value: unknown): value is SerializedSketch {
  const candidate = value as Partial<SerializedSketch> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    [candidate.count, candidate.sum, candidate.min, candidate.max].every((field) => typeof field === 'number') &&
    Array.isArray(candidate.buckets) &&
    candidate.buckets.length % 2 === 0 &&
    candidate.buckets.every((field) => Number.isInteger(field) && field >= 0)
  );
}

/**
 * A mergeable summary of a sample of durations (milliseconds): an HDR histogram for the
 * quantiles and exact count, sum, min and max. Merging two sketches gives the sketch of the
 * union of their samples, so figures from many processes and many time slots combine without
 * ever averaging percentiles.
 */
export class Sketch {
  private readonly histogram = newHistogram();
  private count = 0;
  private sum = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = Number.NEGATIVE_INFINITY;

  /** A sketch of no sample. */
  static empty(): Sketch {
    return new Sketch();
  }

  /** A sketch of the given durations. */
  static of(durationsMs: Iterable<number>): Sketch {
    const sketch = new Sketch();
    for (const value of durationsMs) sketch.record(value);
    return sketch;
  }

  /** Reads a sketch written by {@link Sketch.serialize}; refuses anything else. */
  static parse(text: string): Sketch {
    return new Sketch().mergeSerialized(text);
  }

  /** Number of durations recorded. */
  get sampleCount(): number {
    return this.count;
  }

  /** Records one duration; negative or non-finite durations are refused (they mean a clock bug). */
  record(durationMs: number): this {
    if (!Number.isFinite(durationMs) || durationMs < 0) {
      throw new RangeError(`a duration must be a finite number of milliseconds ≥ 0, got ${durationMs}`);
    }
    this.histogram.recordValue(Math.round(durationMs * MICROS_PER_MS));
    this.absorb(1, durationMs, durationMs, durationMs);
    return this;
  }

  /** Adds another sketch's sample to this one. */
  merge(other: Sketch): this {
    if (other.count === 0) return this;
    this.histogram.add(other.histogram);
    this.absorb(other.count, other.sum, other.min, other.max);
    return this;
  }

  /** Adds the sample of a sketch stored by {@link Sketch.serialize}, bucket by bucket. */
  mergeSerialized(text: string): this {
    const stored: unknown = JSON.parse(text);
    if (!isSerializedSketch(stored)) {
      throw new TypeError('not a serialized sketch: count, sum, min, max and an even list of bucket counts are required');
    }
    if (stored.count === 0) return this;
    for (let i = 0; i < stored.buckets.length; i += 2)
      this.histogram.recordValueWithCount(stored.buckets[i], stored.buckets[i + 1]);
    this.absorb(stored.count, stored.sum, stored.min, stored.max);
    return this;
  }

  /** The duration at quantile `q` (0…1), within 1 %, never outside the recorded min and max. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const value = this.histogram.getValueAtPercentile(q * 100) / MICROS_PER_MS;
    return Math.min(this.max, Math.max(this.min, value));
  }

  /** The figures a person reads; all zero for an empty sketch. */
  stat(): PerformanceStat {
    if (this.count === 0) return { min: 0, max: 0, mean: 0, median: 0, p95: 0, p99: 0, sampleCount: 0 };
    return {
      min: this.min,
      max: this.max,
      mean: this.sum / this.count,
      median: this.quantile(0.5),
      p95: this.quantile(0.95),
      p99: this.quantile(0.99),
      sampleCount: this.count,
    };
  }

  /** A compact text form for storing in Redis. */
  serialize(): string {
    const buckets: number[] = [];
    const iterator = this.histogram.recordedValuesIterator;
    iterator.reset();
    while (iterator.hasNext()) {
      const bucket = iterator.next();
      buckets.push(bucket.valueIteratedTo, bucket.countAtValueIteratedTo);
    }
    const empty = this.count === 0;
    const stored: SerializedSketch = {
      count: this.count,
      sum: this.sum,
      min: empty ? 0 : this.min,
      max: empty ? 0 : this.max,
      buckets,
    };
    return JSON.stringify(stored);
  }

  private absorb(count: number, sum: number, min: number, max: number): void {
    this.count += count;
    this.sum += sum;
    this.min = Math.min(this.min, min);
    this.max = Math.max(this.max, max);
  }
}
