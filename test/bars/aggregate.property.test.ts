import { expect } from 'chai';
import fc from 'fast-check';
import { aggregateBars, canDerive } from '../../src/bars/aggregate.js';
import { allocateBars, barProblem, type BarColumns } from '../../src/bars/columns.js';
import { NYSE } from '../../src/shared/calendar.js';
import { ALIGNMENTS } from '../../src/bars/sessions.js';
import { coarserThan, isOnGrid, type Timeframe } from '../../src/bars/timeframes.js';
import { fromWallClock } from '../../src/shared/zone.js';
import { NEW_YORK } from '../helpers/bars.js';

/** Fixed so a failure replays; fast-check prints the seed and path of any counterexample. */
const SEED = 20_261_122;
const RUNS = 60;

/** Days around the 2024 DST changes, an early close, a holiday and weekends. */
const DAYS = [
  '2024-03-07',
  '2024-03-08',
  '2024-03-09',
  '2024-03-11',
  '2024-11-01',
  '2024-11-04',
  '2024-11-27',
  '2024-11-28',
  '2024-11-29',
  '2024-12-02',
];

interface RawBar {
  day: number;
  minute: number;
  move: number;
  up: number;
  down: number;
  volume: number;
  withVwap: boolean;
}

const rawBar = fc.record({
  day: fc.integer({ min: 0, max: DAYS.length - 1 }),
  // 03:00–21:00 local: some bars before pre-market and after post-market too.
  minute: fc.integer({ min: 180, max: 1259 }),
  move: fc.double({ min: -0.01, max: 0.01, noNaN: true }),
  up: fc.double({ min: 0, max: 0.005, noNaN: true }),
  down: fc.double({ min: 0, max: 0.005, noNaN: true }),
  volume: fc.integer({ min: 0, max: 50_000 }),
  withVwap: fc.boolean(),
});

/** A sorted 1m series with unique ts and valid OHLC from raw draws. */
function toSeries(raw: RawBar[]): BarColumns {
  const byTs = new Map<number, RawBar>();
  for (const bar of raw) {
    const [year, month, day] = DAYS[bar.day].split('-').map(Number);
    byTs.set(fromWallClock(year, month, day, Math.floor(bar.minute / 60), bar.minute % 60, NEW_YORK), bar);
  }
  const entries = [...byTs.entries()].sort(([a], [b]) => a - b);
  const bars = allocateBars(entries.length);
  let price = 100;
  entries.forEach(([ts, bar], i) => {
    const open = price;
    const close = Math.max(1, price * (1 + bar.move));
    bars.ts[i] = ts;
    bars.open[i] = open;
    bars.close[i] = close;
    bars.high[i] = Math.max(open, close) * (1 + bar.up);
    bars.low[i] = Math.min(open, close) * (1 - bar.down);
    bars.volume[i] = bar.volume;
    bars.vwap[i] = bar.withVwap ? (bars.high[i] + bars.low[i]) / 2 : NaN;
    bars.tradeCount[i] = NaN;
    price = close;
  });
  return bars;
}

const series = fc.array(rawBar, { minLength: 1, maxLength: 400 }).map(toSeries);
const TARGETS = coarserThan('1m');

describe('aggregation kernel properties', () => {
  it('should keep low ≤ open, close ≤ high and ts on the grid in every output bar when bars are random', () => {
    fc.assert(
      fc.property(series, fc.constantFrom(...ALIGNMENTS), (bars, alignment) => {
        const { bars: out } = aggregateBars(bars, { source: '1m', targets: TARGETS, alignment });
        for (const target of TARGETS) {
          const result = out[target]!;
          for (let i = 0; i < result.ts.length; i++) {
            expect(barProblem(result.open[i], result.high[i], result.low[i], result.close[i], result.volume[i])).to.equal(
              undefined,
            );
            expect(isOnGrid(result.ts[i], target, NEW_YORK)).to.equal(undefined);
            if (i > 0) expect(result.ts[i]).to.be.greaterThan(result.ts[i - 1]);
          }
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('should conserve the volume of exactly the regular-session bars at every level', () => {
    fc.assert(
      fc.property(series, (bars) => {
        let inSession = 0;
        let rows = 0;
        for (let i = 0; i < bars.ts.length; i++) {
          if (NYSE.sessionAtInstant(bars.ts[i])) {
            inSession += bars.volume[i];
            rows++;
          }
        }
        const { bars: out, stats } = aggregateBars(bars, { source: '1m', targets: TARGETS });
        expect(stats.included).to.equal(rows);
        for (const target of TARGETS)
          expect(
            out[target]!.volume.reduce((sum, v) => sum + v, 0),
            target,
          ).to.equal(inSession);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('should give the same bars in two steps as in one for every pair of nested timeframes', () => {
    const pairs: Array<[Timeframe, Timeframe]> = [];
    for (const middle of TARGETS)
      for (const target of coarserThan(middle)) if (canDerive(middle, target)) pairs.push([middle, target]);
    fc.assert(
      fc.property(series, fc.constantFrom(...pairs), fc.constantFrom(...ALIGNMENTS), (bars, [middle, target], alignment) => {
        const direct = aggregateBars(bars, { source: '1m', targets: [target], alignment }).bars[target]!;
        const step = aggregateBars(bars, { source: '1m', targets: [middle], alignment }).bars[middle]!;
        const stepped = aggregateBars(step, { source: middle, targets: [target], alignment }).bars[target]!;
        expect(Array.from(stepped.ts)).to.deep.equal(Array.from(direct.ts));
        for (const field of ['open', 'high', 'low', 'close', 'volume'] as const) {
          expect(Array.from(stepped[field]), `${middle}→${target} ${field}`).to.deep.equal(Array.from(direct[field]));
        }
        stepped.vwap.forEach((vwap, i) => expect(vwap).to.be.closeTo(direct.vwap[i], direct.vwap[i] * 1e-12));
      }),
      { seed: SEED, numRuns: RUNS * 3 },
    );
  });
});
