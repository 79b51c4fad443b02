import { expect } from 'chai';
import { sliceBars, type BarColumns } from '../../src/bars/columns.js';
import { DETECTORS } from '../../src/patterns/catalog.js';
import {
  checkPlantings,
  firstPlantableBar,
  PLANTABLE_KEYS,
  plantPatterns,
  TEMPLATES,
  type Planting,
} from '../../src/patterns/plant.js';
import { readEtfDaily, readSp500Daily } from './daily-files.js';

function copy(bars: BarColumns): BarColumns {
  return sliceBars(bars, 0, bars.close.length);
}

function invalidBars(bars: BarColumns): number[] {
  return [...bars.close.keys()].filter(
    (i) =>
      !(
        bars.high[i] >= Math.max(bars.open[i], bars.close[i]) &&
        bars.low[i] <= Math.min(bars.open[i], bars.close[i]) &&
        bars.low[i] > 0
      ),
  );
}

function expectValidBars(bars: BarColumns): void {
  expect(invalidBars(bars)).to.deep.equal([]);
}

describe('planting patterns', function () {
  this.timeout(120_000);

  let backgrounds: Array<{ symbol: string; bars: BarColumns }>;
  before(function () {
    backgrounds = [
      ...readEtfDaily(),
      ...readSp500Daily().filter((series, k) => k % 17 === 0 && series.bars.close.length >= 1_000),
    ].map(({ symbol, bars }) => ({
      symbol,
      bars: sliceBars(bars, Math.max(0, bars.close.length - 1_000), bars.close.length),
    }));
    // A few real bars break high ≥ open, close ≥ low; planting is judged on clean series.
    backgrounds = backgrounds.filter(({ bars }) => invalidBars(bars).length === 0);
  });

  for (const key of PLANTABLE_KEYS) {
    for (const direction of TEMPLATES[key].directions) {
      it(`should make the detector find a ${direction} ${key} on the planted bar when planted in real series`, function () {
        const misses: string[] = [];
        for (const { symbol, bars } of backgrounds) {
          for (const bar of [firstPlantableBar(key), 400, 777, 990]) {
            const planted = copy(bars);
            const planting: Planting = { pattern: key, bar, direction };
            plantPatterns(planted, [planting]);
            const [check] = checkPlantings(planted, [planting]);
            if (!check.found) misses.push(`${symbol} bar ${bar}: ${check.value}`);
            expectValidBars(planted);
          }
        }
        expect(misses).to.deep.equal([]);
      });
    }
  }

  it('should set the close the given bars later to the given return when a planting says what follows', function () {
    const bars = copy(backgrounds[0].bars);
    const original = copy(bars);
    plantPatterns(bars, [
      { pattern: 'cdlengulfing', bar: 300, direction: 'bullish', then: { bars: 5, returnPct: 4 } },
      { pattern: 'gap_down', bar: 600, direction: 'bearish', then: { bars: 20, returnPct: -7.5 } },
    ]);
    expect(bars.close[305] / bars.close[300]).to.be.closeTo(1.04, 1e-12);
    expect(bars.close[620] / bars.close[600]).to.be.closeTo(0.925, 1e-12);
    // Before the first planted bar nothing changes; after the effect, returns are the generated ones.
    expect([...bars.close.subarray(0, 299)]).to.deep.equal([...original.close.subarray(0, 299)]);
    expect(bars.close[700] / bars.close[650]).to.be.closeTo(original.close[700] / original.close[650], 1e-12);
    expectValidBars(bars);
  });

  it('should refuse a bar without the history the pattern needs when planting', function () {
    const bars = copy(backgrounds[0].bars);
    const early = firstPlantableBar('high_52w') - 1;
    expect(() => plantPatterns(bars, [{ pattern: 'high_52w', bar: early, direction: 'bullish' }])).to.throw(
      /high_52w needs bars/,
    );
    expect(() => plantPatterns(bars, [{ pattern: 'cdlhammer', bar: 100, direction: 'bearish' }])).to.throw(/cannot be bearish/);
    expect(firstPlantableBar('high_52w')).to.equal(DETECTORS.high_52w.lookback + 1);
  });
});
