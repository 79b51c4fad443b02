import { expect } from 'chai';
import { aggregateBars, derivableTargets, type AggregateOptions, type AggregateResult } from '../../src/bars/aggregate.js';
import { aggregateOnPool, joinSlices, sliceBounds, stretchBounds } from '../../src/bars/aggregate-split.js';
import { allocateBars, allocateSharedBars, BAR_COLUMN_NAMES, viewBars, type BarColumns } from '../../src/bars/columns.js';
import { lowerBound } from '../../src/bars/pages.js';
import { KernelPool } from '../../src/kernels/pool.js';
import { NYSE } from '../../src/shared/calendar.js';
import { fromWallClock, localDate } from '../../src/shared/zone.js';
import { NEW_YORK } from '../helpers/bars.js';

const MINUTE = 60_000;
const DAY = 86_400_000;

/** A seeded xorshift generator, so a failure replays. */
function generator(seed: number): () => number {
  let state = seed;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

/**
 * 1m bars on shared buffers from 07:00 to 18:00 New York time on every weekday of 2024 (both DST
 * changes, the half-days of July 3, November 29 and December 24, holidays with bars on them),
 * with rows and whole days missing, vwap and trade count sometimes unknown, and one bar of 1989,
 * before the calendar.
 */
function gappySeries(): BarColumns {
  const random = generator(20_261_202);
  const ts: number[] = [fromWallClock(1989, 12, 29, 10, 0, NEW_YORK)];
  for (let day = Date.UTC(2024, 0, 1); day < Date.UTC(2025, 0, 1); day += DAY) {
    const date = new Date(day);
    const weekday = date.getUTCDay();
    if (weekday === 0 || weekday === 6 || random() < 0.03) continue;
    // No clock change between 07:00 and 18:00: minutes from 07:00 are plain arithmetic.
    const seven = fromWallClock(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), 7, 0, NEW_YORK);
    for (let minute = 0; minute < 11 * 60; minute++) if (random() > 0.04) ts.push(seven + minute * MINUTE);
  }
  const bars = allocateSharedBars(ts.length);
  let price = 50;
  ts.forEach((t, i) => {
    const open = price;
    price = Math.max(1, price * (1 + (random() - 0.5) * 0.004));
    bars.ts[i] = t;
    bars.open[i] = open;
    bars.close[i] = price;
    bars.high[i] = Math.max(open, price) * (1 + random() * 0.001);
    bars.low[i] = Math.min(open, price) * (1 - random() * 0.001);
    bars.volume[i] = random() < 0.05 ? 0 : Math.floor(random() * 5_000);
    bars.vwap[i] = random() < 0.3 ? NaN : (bars.high[i] + bars.low[i]) / 2;
    bars.tradeCount[i] = random() < 0.3 ? NaN : Math.floor(random() * 100);
  });
  return bars;
}

/** Every column of every target and the stats, compared exactly (NaN equal to NaN). */
function expectSameResult(actual: AggregateResult, expected: AggregateResult, what: string): void {
  expect(actual.stats, `${what} stats`).to.deep.equal(expected.stats);
  expect(Object.keys(actual.bars).sort(), `${what} targets`).to.deep.equal(Object.keys(expected.bars).sort());
  for (const [target, bars] of Object.entries(expected.bars)) {
    for (const name of BAR_COLUMN_NAMES) {
      expect(Array.from(actual.bars[target as keyof typeof expected.bars]![name]), `${what} ${target} ${name}`).to.deep.equal(
        Array.from(bars[name]),
      );
    }
  }
}

describe('aggregation kernel split over the pool', function () {
  const series = gappySeries();
  let pool: KernelPool;
  before(() => {
    pool = new KernelPool(4);
  });
  after(async () => {
    await pool.destroy();
  });

  /** The series cut at row bounds (sliceBounds' by default), each slice aggregated by a pool thread, joined. */
  async function inSlices(
    bars: BarColumns,
    options: AggregateOptions,
    parts: number,
    bounds = sliceBounds(bars.ts, options, parts),
  ): Promise<AggregateResult> {
    const sliceOptions = { ...options, calendar: NYSE.name };
    const slices = await Promise.all(
      bounds.slice(1).map((to, k) => pool.run('aggregateSlice', { bars, from: bounds[k], to, options: sliceOptions })),
    );
    return joinSlices(slices, options.targets);
  }

  for (const session of ['regular', 'extended', '24h'] as const) {
    for (const alignment of ['session', 'natural'] as const) {
      it(`should equal the single-thread result exactly in ${session} mode, ${alignment}-aligned, whatever the number of slices`, async () => {
        const options: AggregateOptions = { source: '1m', targets: derivableTargets('1m'), session, alignment };
        const whole = aggregateBars(series, options);
        expect(whole.stats.outsideCalendar).to.equal(session === '24h' ? 0 : 1);
        for (const parts of [2, 3, 7, 40]) {
          expect(sliceBounds(series.ts, options, parts).length - 1, `${parts} slices`).to.be.greaterThan(1);
          expectSameResult(await inSlices(series, options, parts), whole, `${parts} slices`);
        }
        expectSameResult(await aggregateOnPool(pool, series, options, { minSliceRows: 1_000 }), whole, 'aggregateOnPool');
      });
    }
  }

  for (const session of ['regular', 'extended', '24h'] as const) {
    it(`should cut a stretch of time in ${session} mode before reading where the rows split as one pass splits them`, async () => {
      const options: AggregateOptions = { source: '1m', targets: derivableTargets('1m'), session };
      // From the first 2024 bar, as the job starts from its first stored bar; 1989 has no session.
      const from = series.ts[1];
      const to = series.ts[series.ts.length - 1] + MINUTE;
      const cuts = stretchBounds(from, to, options, { parts: 6, minRows: 10_000 });
      expect(cuts.length - 1).to.be.within(2, 6);
      const bounds = cuts.map((cut) => lowerBound(series.ts, cut));
      const whole = aggregateBars(viewBars(series, bounds[0], series.ts.length), options);
      expectSameResult(await inSlices(series, options, 0, bounds), whole, `${cuts.length - 1} stretches`);
    });
  }

  it('should move a cut that would fall inside a week or month to where both change', async () => {
    const options: AggregateOptions = { source: '1m', targets: ['1h', '1w', '1M'] };
    const bounds = sliceBounds(series.ts, options, 12);
    expect(bounds.length - 1).to.be.within(2, 12);
    const monday = (date: string) => Date.parse(date) / DAY - ((Date.parse(date) / DAY + 3) % 7);
    for (const cut of bounds.slice(1, -1)) {
      // The rows after a cut start at the first session of a month and of a week.
      const date = localDate(series.ts[cut], NEW_YORK);
      const day = NYSE.session(date) ?? NYSE.nextSession(date);
      const next = series.ts[cut] >= day.close ? NYSE.sessionAt(day.index + 1)! : day;
      const previous = NYSE.sessionAt(next.index - 1)!;
      expect(previous.date.slice(0, 7), `cut at row ${cut}`).to.not.equal(next.date.slice(0, 7));
      expect(monday(previous.date), `cut at row ${cut}`).to.be.lessThan(monday(next.date));
      expect(series.ts[cut - 1], `cut at row ${cut}`).to.be.lessThan(previous.close);
    }
    expectSameResult(await inSlices(series, options, 12), aggregateBars(series, options), '12 slices');
  });

  it('should equal the single-thread result when 1d bars are split into 2d, 1w and 1M', async () => {
    const daily = aggregateBars(series, { source: '1m', targets: ['1d'] }).bars['1d']!;
    const shared = allocateSharedBars(daily.ts.length);
    for (const name of BAR_COLUMN_NAMES) shared[name].set(daily[name]);
    const options: AggregateOptions = { source: '1d', targets: ['2d', '1w', '1M'] };
    expectSameResult(await inSlices(shared, options, 5), aggregateBars(shared, options), '1d in 5 slices');
  });

  it('should run one slice when the series is shorter than one slice or holds one session', async () => {
    const options: AggregateOptions = { source: '1m', targets: ['5m', '1d'] };
    expect(sliceBounds(series.ts, options, 1)).to.deep.equal([0, series.ts.length]);
    expectSameResult(await aggregateOnPool(pool, series, options), aggregateBars(series, options), 'default slice length');
    const oneDay = allocateSharedBars(300);
    const open = NYSE.session('2024-03-11')!.open;
    for (let i = 0; i < 300; i++) {
      oneDay.ts[i] = open + i * MINUTE;
      oneDay.open[i] = oneDay.high[i] = oneDay.low[i] = oneDay.close[i] = 10 + i;
      oneDay.volume[i] = 1;
      oneDay.vwap[i] = oneDay.tradeCount[i] = NaN;
    }
    expect(sliceBounds(oneDay.ts, options, 4)).to.deep.equal([0, 300]);
    expectSameResult(
      await aggregateOnPool(pool, oneDay, options, { minSliceRows: 1 }),
      aggregateBars(oneDay, options),
      'one day',
    );
    const empty = allocateSharedBars(0);
    expectSameResult(await aggregateOnPool(pool, empty, options, { minSliceRows: 1 }), aggregateBars(empty, options), 'empty');
  });

  it('should refuse columns that are not on SharedArrayBuffers, naming the allocator', async () => {
    let error: unknown;
    await aggregateOnPool(pool, allocateBars(10), { source: '1m', targets: ['5m'] }).catch((caught: unknown) => (error = caught));
    expect(error)
      .to.be.instanceOf(TypeError)
      .with.property('message')
      .that.matches(/SharedArrayBuffers \(see allocateSharedBars\)/);
  });
});
