import { expect } from 'chai';
import { sliceBars, type BarColumns } from '../../src/bars/columns.js';
import { DETECTORS, PATTERN_KEYS, lookbackOf, patternSeries, type PatternKey } from '../../src/patterns/catalog.js';
import { detectPatterns } from '../../src/patterns/detect.js';
import { readEtfDaily } from './daily-files.js';

function run(key: PatternKey, bars: BarColumns): Int32Array {
  const out = new Int32Array(bars.close.length).fill(9);
  DETECTORS[key].detect(patternSeries(bars), out);
  return out;
}

describe('pattern detectors', function () {
  this.timeout(120_000);

  let spy: BarColumns;
  let qqq: BarColumns;
  before(function () {
    [spy, qqq] = ['SPY', 'QQQ'].map((symbol) => readEtfDaily().find((series) => series.symbol === symbol)!.bars);
  });

  it('should give every detector a version and a lookback when the catalogue is read', function () {
    expect(PATTERN_KEYS.length).to.be.at.least(34);
    for (const key of PATTERN_KEYS) {
      expect(DETECTORS[key].key).to.equal(key);
      expect(DETECTORS[key].version).to.match(/^\d+\.\d+\.\d+/);
      expect(DETECTORS[key].lookback).to.be.a('number').and.at.least(1);
    }
  });

  for (const key of PATTERN_KEYS) {
    it(`should never let a later bar change ${key} when run on prefixes of SPY and QQQ`, function () {
      let found = 0;
      for (const bars of [spy, qqq]) {
        const full = run(key, bars);
        found += full.filter((value) => value !== 0).length;
        for (const cut of [0, 1, DETECTORS[key].lookback, DETECTORS[key].lookback + 1, 300, 1_001, 2_718, 3_900]) {
          const prefix = run(key, sliceBars(bars, 0, cut));
          expect([...prefix], `cut at ${cut}`).to.deep.equal([...full.subarray(0, cut)]);
        }
      }
      expect(found).to.be.greaterThan(0);
    });

    it(`should find no ${key} on a bar without its full lookback when the series starts anywhere`, function () {
      const { lookback } = DETECTORS[key];
      for (const start of [0, 17, 1_234]) {
        const out = run(key, sliceBars(spy, start, start + lookback + 40));
        expect([...out.subarray(0, lookback)].every((value) => value === 0)).to.equal(true);
      }
    });
  }

  for (const key of PATTERN_KEYS.filter((one) => DETECTORS[one].family === 'event')) {
    it(`should find ${key} the same on a bar whatever earlier history was read when given its lookback`, function () {
      const full = run(key, spy);
      const { lookback } = DETECTORS[key];
      for (const start of [5, 400, 3_000]) {
        const part = run(key, sliceBars(spy, start, spy.close.length));
        expect([...part.subarray(lookback)]).to.deep.equal([...full.subarray(start + lookback)]);
      }
    });
  }

  it('should list the detections of the chosen patterns from the first bar asked for when detecting', function () {
    const keys: PatternKey[] = ['cdlengulfing', 'breakout_20', 'gap_down'];
    const from = 4_000;
    const found = detectPatterns(spy, keys, from);
    keys.forEach((key, pattern) => {
      const out = run(key, spy);
      const expected = [...out.keys()].filter((i) => i >= from && out[i] !== 0);
      const bars = [...found.bar].filter((_, k) => found.pattern[k] === pattern);
      expect(bars, key).to.deep.equal(expected);
      const values = [...found.value].filter((_, k) => found.pattern[k] === pattern);
      expect(values, key).to.deep.equal(expected.map((i) => out[i]));
    });
    expect(lookbackOf(keys)).to.equal(20);
  });
});
