import { expect } from 'chai';
import { candlesOf, type OhlcColumns } from '../../src/patterns/candles.js';
import { CANDLESTICK_KEYS, CANDLESTICKS } from '../../src/patterns/candlesticks.js';
import { readEtfDaily, readSp500Daily, type DailySeries } from './daily-files.js';
import { runTalib, TALIB_CANDLESTICKS, type ReferenceRun } from './talib.js';

/** Bars on a coarse price grid with tiny ranges: many equal opens, closes, highs and lows. */
function tiedBars(length: number, seed: number): OhlcColumns {
  let state = seed;
  const next = () => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    return state / 2 ** 32;
  };
  const bars = {
    open: new Float64Array(length),
    high: new Float64Array(length),
    low: new Float64Array(length),
    close: new Float64Array(length),
  };
  let price = 100;
  for (let i = 0; i < length; i++) {
    const open = price + Math.round((next() - 0.5) * 4) * 0.05;
    const close = open + Math.round((next() - 0.5) * 6) * 0.05;
    bars.open[i] = open;
    bars.close[i] = close;
    bars.high[i] = Math.max(open, close) + Math.round(next() * 3) * 0.05;
    bars.low[i] = Math.min(open, close) - Math.round(next() * 3) * 0.05;
    price = close;
  }
  return bars;
}

interface Case {
  label: string;
  bars: OhlcColumns;
}

describe('candlestick patterns against TA-Lib C', function () {
  this.timeout(600_000);

  const cases: Case[] = [];
  let reference: ReferenceRun;

  before(async function () {
    const daily: DailySeries[] = [...readSp500Daily(), ...readEtfDaily()];
    for (const { symbol, bars } of daily) cases.push({ label: symbol, bars });
    // Series shorter than, equal to and just past every lookback, where warm-up is decided.
    const aapl = daily.find((one) => one.symbol === 'AAPL')!.bars;
    for (let length = 0; length <= 16; length++) {
      cases.push({
        label: `AAPL first ${length}`,
        bars: {
          open: aapl.open.slice(0, length),
          high: aapl.high.slice(0, length),
          low: aapl.low.slice(0, length),
          close: aapl.close.slice(0, length),
        },
      });
    }
    for (let seed = 1; seed <= 20; seed++) cases.push({ label: `tied grid seed ${seed}`, bars: tiedBars(2_000, seed) });
    reference = await runTalib(
      cases.map((one) => one.bars),
      TALIB_CANDLESTICKS,
    );
  });

  it('should cover every TA-Lib function the reference runs when the catalogue is complete', function () {
    expect(CANDLESTICK_KEYS).to.deep.equal([...TALIB_CANDLESTICKS]);
  });

  for (const key of CANDLESTICK_KEYS) {
    it(`should equal TA-Lib's ${key} on every bar when run on each real and synthetic series`, function () {
      const expected = reference.values.get(key)!;
      const { run, lookback } = CANDLESTICKS[key];
      const mismatches: string[] = [];
      let offset = 0;
      let found = 0;
      for (const { label, bars } of cases) {
        const length = bars.close.length;
        const out = new Int32Array(length).fill(7);
        run(candlesOf(bars), out);
        for (let i = 0; i < length; i++) {
          if (out[i] !== 0) found++;
          if (out[i] !== expected[offset + i] && mismatches.length < 10) {
            mismatches.push(`${label} bar ${i}: ours ${out[i]}, TA-Lib ${expected[offset + i]}`);
          }
          if (i < lookback && out[i] !== 0) mismatches.push(`${label} bar ${i} inside the lookback: ${out[i]}`);
        }
        offset += length;
      }
      expect(mismatches).to.deep.equal([]);
      expect(found, `${key} found nowhere, so the comparison proves little`).to.be.greaterThan(0);
    });
  }
});
