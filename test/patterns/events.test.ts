import { expect } from 'chai';
import type { BarColumns } from '../../src/bars/columns.js';
import { DETECTORS, patternSeries, type PatternKey } from '../../src/patterns/catalog.js';
import { readEtfDaily, readSp500Daily } from './daily-files.js';

function run(key: PatternKey, bars: BarColumns): Int32Array {
  const out = new Int32Array(bars.close.length);
  DETECTORS[key].detect(patternSeries(bars), out);
  return out;
}

const highest = (values: Float64Array, from: number, to: number) => Math.max(...values.subarray(from, to));
const lowest = (values: Float64Array, from: number, to: number) => Math.min(...values.subarray(from, to));
const mean = (values: Float64Array, from: number, to: number) =>
  values.subarray(from, to).reduce((a, b) => a + b, 0) / (to - from);

/** The definitions, written as plainly as they read, one bar at a time. */
const DEFINITIONS: Partial<Record<PatternKey, (bars: BarColumns, i: number) => number>> = {
  breakout_20: (b, i) => (i >= 20 && b.close[i] > highest(b.high, i - 20, i) ? 100 : 0),
  breakdown_20: (b, i) => (i >= 20 && b.close[i] < lowest(b.low, i - 20, i) ? -100 : 0),
  high_52w: (b, i) => (i >= 252 && b.high[i] > highest(b.high, i - 252, i) ? 100 : 0),
  low_52w: (b, i) => (i >= 252 && b.low[i] < lowest(b.low, i - 252, i) ? -100 : 0),
  volume_spike: (b, i) => (i >= 20 && b.volume[i] > 3 * mean(b.volume, i - 20, i) ? (b.close[i] >= b.open[i] ? 100 : -100) : 0),
  gap_up: (b, i) => (i >= 1 && b.open[i] > b.high[i - 1] * 1.01 ? 100 : 0),
  gap_down: (b, i) => (i >= 1 && b.open[i] < b.low[i - 1] * 0.99 ? -100 : 0),
};

describe('event patterns', function () {
  this.timeout(120_000);

  const series = () => [...readEtfDaily(), ...readSp500Daily().slice(0, 60)];

  for (const [key, definition] of Object.entries(DEFINITIONS) as Array<[PatternKey, (b: BarColumns, i: number) => number]>) {
    it(`should find ${key} exactly where its definition holds when run on SPY, QQQ and 60 S&P 500 stocks`, function () {
      let found = 0;
      const mismatches: string[] = [];
      for (const { symbol, bars } of series()) {
        const out = run(key, bars);
        for (let i = 0; i < out.length; i++) {
          const expected = definition(bars, i);
          if (out[i] !== 0) found++;
          if (out[i] !== expected && mismatches.length < 5) mismatches.push(`${symbol} bar ${i}: ${out[i]} ≠ ${expected}`);
        }
      }
      expect(mismatches).to.deep.equal([]);
      expect(found).to.be.greaterThan(0);
    });
  }

  it('should weigh exactly the previous 20 highs when a close breaks out', function () {
    const breakoutAt = (bar: number) => {
      const bars = flatBars(25, 10);
      setBar(bars, 3, { high: 12 });
      setBar(bars, bar, { close: 11.5 });
      return run('breakout_20', bars)[bar];
    };
    expect(breakoutAt(23), 'bar 3 is still among the previous 20').to.equal(0);
    expect(breakoutAt(24), 'bar 3 has left the window').to.equal(100);
  });

  it('should signal a volatility surge in the direction of the move when the true range jumps', function () {
    const bars = flatBars(26, 100);
    setBar(bars, 25, { high: 106, close: 105.5 });
    expect([...run('volatility_surge', bars)].filter((value) => value !== 0)).to.deep.equal([100]);
    setBar(bars, 25, { high: 101, low: 93, close: 94 });
    expect(run('volatility_surge', bars)[25]).to.equal(-100);
    setBar(bars, 25, { low: 97, close: 97.5 });
    expect(run('volatility_surge', bars)[25], 'a true range of 4 is under 2.5 × 2').to.equal(0);
  });

  it('should signal mean reversion against a close stretched beyond two standard deviations', function () {
    const bars = flatBars(40, 100);
    setBar(bars, 30, { close: 90 });
    expect(run('mean_reversion', bars)[30]).to.equal(100);
    setBar(bars, 30, { close: 110 });
    expect(run('mean_reversion', bars)[30]).to.equal(-100);
    expect([...run('mean_reversion', bars)].filter((value) => value !== 0)).to.have.length(1);
  });

  it('should signal a trend continuation when an uptrend closes back above its 20-bar mean after a dip', function () {
    const bars = barsFromCloses(Array.from({ length: 80 }, (_, i) => 100 + 0.5 * i));
    setBar(bars, 70, { close: 125 });
    const out = run('trend_continuation', bars);
    expect([...out.keys()].filter((i) => out[i] !== 0)).to.deep.equal([71]);
    expect(out[71]).to.equal(100);
  });

  it('should signal a bearish momentum divergence when a new high comes with weaker momentum', function () {
    const closes = Array.from({ length: 60 }, (_, i) => (i < 30 ? 100 : i < 40 ? 100 + (i - 29) * 2 : i < 50 ? 119 : 100));
    closes[50] = 121; // a new high, but 121 − 119 over 10 bars against 120 − 100 at the old high
    const out = run('momentum_divergence', barsFromCloses(closes));
    expect([...out.keys()].filter((i) => out[i] !== 0)).to.deep.equal([50]);
    expect(out[50]).to.equal(-100);
  });

  it('should signal support holding when a bar tests the 20-bar low and closes high in its range', function () {
    const bars = flatBars(30, 100);
    setBar(bars, 22, { low: 99.2, close: 100.4, high: 100.5 });
    expect(run('support_resistance', bars)[22]).to.equal(100);
    setBar(bars, 22, { low: 98.5, close: 98.9, high: 99.5 });
    expect(run('support_resistance', bars)[22], 'a close below the level is no support').to.equal(0);
    expect([...run('support_resistance', flatBars(30, 100))].filter((value) => value !== 0)).to.deep.equal([]);
  });
});

/** Bars with open = close = price, high = price + 1, low = price − 1, volume 1000. */
function flatBars(length: number, price: number): BarColumns {
  return barsFromCloses(Array.from({ length }, () => price));
}

/** Bars closing at the given prices, each opening at the previous close, one unit of range either side. */
function barsFromCloses(closes: number[]): BarColumns {
  const length = closes.length;
  const bars: BarColumns = {
    ts: Float64Array.from({ length }, (_, i) => i * 86_400_000),
    open: Float64Array.from({ length }, (_, i) => closes[Math.max(0, i - 1)]),
    close: Float64Array.from(closes),
    high: new Float64Array(length),
    low: new Float64Array(length),
    volume: new Float64Array(length).fill(1000),
    vwap: new Float64Array(length).fill(NaN),
    tradeCount: new Float64Array(length).fill(NaN),
  };
  for (let i = 0; i < length; i++) {
    bars.high[i] = Math.max(bars.open[i], bars.close[i]) + 1;
    bars.low[i] = Math.min(bars.open[i], bars.close[i]) - 1;
  }
  return bars;
}

/** Changes a bar, widening its high and low to hold its open and close. */
function setBar(bars: BarColumns, i: number, values: { open?: number; high?: number; low?: number; close?: number }): void {
  for (const [column, value] of Object.entries(values) as Array<['open' | 'high' | 'low' | 'close', number]>)
    bars[column][i] = value;
  bars.high[i] = Math.max(bars.high[i], bars.open[i], bars.close[i]);
  bars.low[i] = Math.min(bars.low[i], bars.open[i], bars.close[i]);
}
