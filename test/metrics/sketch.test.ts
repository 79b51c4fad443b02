import { expect } from 'chai';
import fc from 'fast-check';
import { Sketch } from '../../src/metrics/sketch.js';

/** The exact nearest-rank q-quantile of a sample. */
function exactQuantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
}

/** Within the sketch's resolution: 1 % of the value, or one microsecond for tiny values. */
function expectWithinResolution(actual: number, expected: number, what: string): void {
  expect(Math.abs(actual - expected), `${what}: ${actual} vs ${expected}`).to.be.at.most(expected * 1e-2 + 1e-3);
}

/** One sketch of all the samples, merged as a reader of many processes does. */
function mergeAll(sketches: Sketch[]): Sketch {
  return sketches.reduce((merged, sketch) => merged.merge(sketch), Sketch.empty());
}

// Three processes with very different latency profiles: a fast web, a slow worker, a bimodal one.
const fast = Array.from({ length: 5_000 }, (_, i) => 1 + (i % 97) * 0.05);
const slow = Array.from({ length: 400 }, (_, i) => 200 + ((i * 37) % 400) * 2.5);
const bimodal = Array.from({ length: 1_600 }, (_, i) => (i % 10 === 0 ? 900 + i : 20 + (i % 13)));

describe('sketch', () => {
  it('should give the quantiles of the union of the samples when sketches from several processes are merged', () => {
    const union = [...fast, ...slow, ...bimodal];
    const merged = mergeAll([Sketch.of(fast), Sketch.of(slow), Sketch.of(bimodal)]);
    const stat = merged.stat();
    expect(stat.sampleCount).to.equal(union.length);
    expectWithinResolution(stat.median, exactQuantile(union, 0.5), 'median');
    expectWithinResolution(stat.p95, exactQuantile(union, 0.95), 'p95');
    expectWithinResolution(stat.p99, exactQuantile(union, 0.99), 'p99');
    expect(stat.min).to.equal(Math.min(...union));
    expect(stat.max).to.equal(Math.max(...union));
    expect(stat.mean).to.be.closeTo(union.reduce((sum, value) => sum + value, 0) / union.length, 1e-9);
  });

  it('should differ from the average of the per-process percentiles when the processes differ', () => {
    const parts = [fast, slow, bimodal].map((sample) => Sketch.of(sample));
    const averagedP99 = parts.reduce((sum, part) => sum + part.stat().p99, 0) / parts.length;
    const trueP99 = exactQuantile([...fast, ...slow, ...bimodal], 0.99);
    // The averaged figure is wrong by far more than the sketch's resolution; the merged one is not.
    expect(Math.abs(averagedP99 - trueP99)).to.be.above(trueP99 * 0.1);
    expectWithinResolution(mergeAll(parts).stat().p99, trueP99, 'merged p99');
  });

  it('should equal one sketch of every value when sketches of any split are merged', () => {
    const duration = fc.double({ min: 0, max: 600_000, noNaN: true });
    fc.assert(
      fc.property(fc.array(duration, { maxLength: 200 }), fc.array(duration, { maxLength: 200 }), (left, right) => {
        const merged = Sketch.of(left).merge(Sketch.of(right)).stat();
        const whole = Sketch.of([...left, ...right]).stat();
        expect({ ...merged, mean: 0 }).to.deep.equal({ ...whole, mean: 0 });
        expect(merged.mean).to.be.closeTo(whole.mean, whole.mean * 1e-9 + 1e-9);
      }),
    );
  });

  it('should keep every figure when a sketch is serialized and parsed, as between processes over Redis', () => {
    const original = Sketch.of(bimodal);
    const copy = Sketch.parse(original.serialize());
    expect(copy.stat()).to.deep.equal(original.stat());
    const merged = Sketch.empty().mergeSerialized(Sketch.of(fast).serialize()).mergeSerialized(Sketch.of(slow).serialize());
    expect({ ...merged.stat(), mean: 0 }).to.deep.equal({ ...Sketch.of([...fast, ...slow]).stat(), mean: 0 });
  });

  it('should report zeros when nothing was recorded, also after a round trip', () => {
    const zeros = { min: 0, max: 0, mean: 0, median: 0, p95: 0, p99: 0, sampleCount: 0 };
    expect(Sketch.empty().stat()).to.deep.equal(zeros);
    expect(Sketch.parse(Sketch.empty().serialize()).stat()).to.deep.equal(zeros);
    expect(Sketch.of([4]).merge(Sketch.empty()).stat()).to.deep.include({ min: 4, max: 4, p99: 4, sampleCount: 1 });
  });

  it('should refuse a negative or non-finite duration and text that is not a sketch', () => {
    expect(() => Sketch.empty().record(-1)).to.throw(RangeError, /≥ 0, got -1/);
    expect(() => Sketch.empty().record(Number.NaN)).to.throw(RangeError, /got NaN/);
    expect(() => Sketch.parse('{"count":3}')).to.throw(TypeError, /not a serialized sketch/);
    expect(() => Sketch.parse('{"count":1,"sum":1,"min":1,"max":1,"buckets":[1000]}')).to.throw(TypeError, /even list/);
  });
});
