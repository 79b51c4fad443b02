import { expect } from 'chai';
import { aggregateBars, canDerive, variantOf } from '../../src/bars/aggregate.js';
import { allocateBars, sliceBars, type BarColumns } from '../../src/bars/columns.js';
import { NYSE } from '../../src/shared/calendar.js';
import { TIMEFRAMES, coarserThan, type Timeframe } from '../../src/bars/timeframes.js';
import { localDate, localMidnight } from '../../src/shared/zone.js';
import { NEW_YORK, loadBars, nyTime, ohlcvOf, rowsWhere } from '../helpers/bars.js';
import { GOOG_1MIN, SHY_1MIN, SPY_1MIN, SPY_DAILY } from '../helpers/data.js';

const ALL_TARGETS = coarserThan('1m');
const MINUTE = 60_000;

/** Rows of the base series inside one session's regular hours: the oracle's view of a day. */
function sessionRows(bars: BarColumns, date: string): number[] {
  const session = NYSE.session(date)!;
  return rowsWhere(bars, (ts) => ts >= session.open && ts < session.close);
}

function expectSameBars(actual: BarColumns, expected: BarColumns, what: string): void {
  expect(Array.from(actual.ts), `${what} ts`).to.deep.equal(Array.from(expected.ts));
  for (const field of ['open', 'high', 'low', 'close', 'volume', 'tradeCount'] as const) {
    expect(Array.from(actual[field]), `${what} ${field}`).to.deep.equal(Array.from(expected[field]));
  }
  actual.vwap.forEach((vwap, i) =>
    expect(vwap, `${what} vwap[${i}]`).to.be.closeTo(expected.vwap[i], Math.abs(expected.vwap[i]) * 1e-12),
  );
}

describe('aggregation kernel', () => {
  const spy = loadBars(SPY_1MIN, '1m');
  const goog = loadBars(GOOG_1MIN, '1m');
  const shy = loadBars(SHY_1MIN, '1m');

  it('should keep exactly 390 regular 1m bars per SPY day when extended hours are in the file', () => {
    const { bars, stats } = aggregateBars(spy, { source: '1m', targets: ['1d', '5m'] });
    const days = bars['1d']!;
    expect(days.ts.length).to.equal(6);
    expect(stats.included).to.equal(6 * 390);
    expect(stats.outsideSession).to.equal(spy.ts.length - 6 * 390);
    for (const ts of days.ts) expect(sessionRows(spy, localDate(ts, NEW_YORK))).to.have.length(390);
    expect(bars['5m']!.ts.length).to.equal(6 * 78);
  });

  it('should start 1h bars at 09:30 … 15:30 with a 30-minute last bar when alignment is session', () => {
    const hours = aggregateBars(spy, { source: '1m', targets: ['1h'] }).bars['1h']!;
    const firstDay = Array.from(hours.ts).filter((ts) => localDate(ts, NEW_YORK) === '2013-10-07');
    expect(firstDay.map((ts) => nyTime(ts).slice(11))).to.deep.equal([
      '09:30',
      '10:30',
      '11:30',
      '12:30',
      '13:30',
      '14:30',
      '15:30',
    ]);
    const last = Array.from(hours.ts).indexOf(firstDay[6]);
    const oracle = ohlcvOf(
      spy,
      rowsWhere(spy, (ts) => ts >= firstDay[6] && ts < firstDay[6] + 30 * MINUTE),
    );
    expect({
      open: hours.open[last],
      high: hours.high[last],
      low: hours.low[last],
      close: hours.close[last],
      volume: hours.volume[last],
    }).to.deep.equal(oracle);
    expect(rowsWhere(spy, (ts) => ts >= firstDay[6] && ts < firstDay[6] + 30 * MINUTE)).to.have.length(30);
  });

  it('should start 4h bars at 09:30 and 13:30 on every SPY day', () => {
    const fours = aggregateBars(spy, { source: '1m', targets: ['4h'] }).bars['4h']!;
    expect(fours.ts.length).to.equal(12);
    expect(new Set(Array.from(fours.ts, (ts) => nyTime(ts).slice(11)))).to.deep.equal(new Set(['09:30', '13:30']));
  });

  it('should end the early-close day at 13:00 and leave out the later prints when the session is regular', () => {
    const { bars } = aggregateBars(goog, { source: '1m', targets: ['5m', '1h', '1d'] });
    const onEve = (series: BarColumns) => Array.from(series.ts).filter((ts) => localDate(ts, NEW_YORK) === '2015-12-24');
    expect(onEve(bars['1h']!).map((ts) => nyTime(ts).slice(11))).to.deep.equal(['09:30', '10:30', '11:30', '12:30']);
    expect(nyTime(onEve(bars['5m']!).at(-1)!).slice(11)).to.equal('12:55');
    const day = Array.from(bars['1d']!.ts).indexOf(localMidnight('2015-12-24', NEW_YORK));
    const oracle = ohlcvOf(goog, sessionRows(goog, '2015-12-24'));
    expect(bars['1d']!.close[day]).to.equal(oracle.close);
    expect(bars['1d']!.volume[day]).to.equal(oracle.volume);
    expect(
      rowsWhere(goog, (ts) => localDate(ts, NEW_YORK) === '2015-12-24' && nyTime(ts).slice(11) >= '13:00').length,
    ).to.be.greaterThan(0);
    expect(Array.from(bars['1d']!.ts, (ts) => localDate(ts, NEW_YORK))).to.deep.equal(['2015-12-23', '2015-12-24', '2015-12-28']);
  });

  it('should start 1h bars at 09:30 local on both sides of the DST change', () => {
    const hours = aggregateBars(shy, { source: '1m', targets: ['1h'] }).bars['1h']!;
    const firsts = ['2008-03-07', '2008-03-10'].map((date) =>
      Array.from(hours.ts).find((ts) => localDate(ts, NEW_YORK) === date)!,
    );
    expect(firsts.map(nyTime)).to.deep.equal(['2008-03-07 09:30', '2008-03-10 09:30']);
    expect(firsts.map((ts) => new Date(ts).toISOString())).to.deep.equal([
      '2008-03-07T14:30:00.000Z',
      '2008-03-10T13:30:00.000Z',
    ]);
  });

  it('should build each daily bar from the first open, max high, min low, last close and summed volume of its session', () => {
    for (const [series, name] of [
      [spy, 'SPY'],
      [goog, 'GOOG'],
      [shy, 'SHY'],
    ] as const) {
      const days = aggregateBars(series, { source: '1m', targets: ['1d'] }).bars['1d']!;
      days.ts.forEach((ts, i) => {
        const oracle = ohlcvOf(series, sessionRows(series, localDate(ts, NEW_YORK)));
        const actual = { open: days.open[i], high: days.high[i], low: days.low[i], close: days.close[i], volume: days.volume[i] };
        expect(actual, `${name} ${localDate(ts, NEW_YORK)}`).to.deep.equal(oracle);
        expect(ts).to.equal(localMidnight(localDate(ts, NEW_YORK), NEW_YORK));
      });
    }
  });

  it('should give the same bars 1m→1h→1d as 1m→1d in every field', () => {
    for (const series of [spy, goog, shy]) {
      const direct = aggregateBars(series, { source: '1m', targets: ['1d'] }).bars['1d']!;
      const hours = aggregateBars(series, { source: '1m', targets: ['1h'] }).bars['1h']!;
      const stepped = aggregateBars(hours, { source: '1h', targets: ['1d'] }).bars['1d']!;
      expectSameBars(stepped, direct, '1m→1h→1d');
    }
  });

  it('should build every timeframe in one call exactly as it builds it alone', () => {
    const together = aggregateBars(goog, { source: '1m', targets: ALL_TARGETS, alignment: 'natural' }).bars;
    for (const target of ALL_TARGETS) {
      const alone = aggregateBars(goog, { source: '1m', targets: [target], alignment: 'natural' }).bars[target]!;
      expectSameBars(together[target]!, alone, target);
    }
  });

  it('should label natural 1h bars on the clock hour, the first holding only 09:30–09:59', () => {
    const hours = aggregateBars(spy, { source: '1m', targets: ['1h'], alignment: 'natural' }).bars['1h']!;
    const day = Array.from(hours.ts).filter((ts) => localDate(ts, NEW_YORK) === '2013-10-08');
    expect(day.map((ts) => nyTime(ts).slice(11))).to.deep.equal(['09:00', '10:00', '11:00', '12:00', '13:00', '14:00', '15:00']);
    const first = Array.from(hours.ts).indexOf(day[0]);
    const open = NYSE.session('2013-10-08')!.open;
    expect(hours.volume[first]).to.equal(
      ohlcvOf(
        spy,
        rowsWhere(spy, (ts) => ts >= open && ts < open + 30 * MINUTE),
      ).volume,
    );
  });

  it('should take pre- and post-market bars into extended-session bars', () => {
    const { bars, stats } = aggregateBars(spy, { source: '1m', targets: ['1d', '4h'], session: 'extended' });
    expect(stats.included).to.equal(spy.ts.length);
    const total = spy.volume.reduce((sum, v) => sum + v, 0);
    expect(bars['1d']!.volume.reduce((sum, v) => sum + v, 0)).to.equal(total);
    expect(new Set(Array.from(bars['4h']!.ts, (ts) => nyTime(ts).slice(11)))).to.deep.equal(
      new Set(['04:00', '08:00', '12:00', '16:00']),
    );
  });

  it('should bucket from UTC midnight when the session is 24h', () => {
    const { bars, stats } = aggregateBars(spy, { source: '1m', targets: ['1d', '4h'], session: '24h' });
    expect(stats.included).to.equal(spy.ts.length);
    for (const ts of bars['1d']!.ts) expect(ts % 86_400_000).to.equal(0);
    for (const ts of bars['4h']!.ts) expect(ts % (4 * 3_600_000)).to.equal(0);
  });

  it('should pair sessions for 2d bars the same way whatever day the batch starts on', () => {
    const days = aggregateBars(spy, { source: '1m', targets: ['1d'] }).bars['1d']!;
    const whole = aggregateBars(days, { source: '1d', targets: ['2d'] }).bars['2d']!;
    const later = aggregateBars(sliceBars(days, 1, days.ts.length), { source: '1d', targets: ['2d'] }).bars['2d']!;
    const labels = Array.from(whole.ts, (ts) => localDate(ts, NEW_YORK));
    expect(Array.from(later.ts, (ts) => localDate(ts, NEW_YORK))).to.deep.equal(labels);
    for (const label of labels) {
      const session = NYSE.session(label)!;
      expect(session.index % 2, `${label} starts a pair`).to.equal(0);
    }
  });

  it('should build weekly and monthly bars from 5 years of daily bars labelled Monday and the 1st', () => {
    const daily = loadBars(SPY_DAILY, '1d');
    const from = localMidnight('2013-01-01', NEW_YORK);
    const to = localMidnight('2018-01-01', NEW_YORK);
    const rows = rowsWhere(daily, (ts) => ts >= from && ts < to);
    const fiveYears = allocateBars(rows.length);
    for (const field of ['ts', 'open', 'high', 'low', 'close', 'volume', 'vwap', 'tradeCount'] as const) {
      rows.forEach((row, i) => (fiveYears[field][i] = daily[field][row]));
    }
    const { bars } = aggregateBars(fiveYears, { source: '1d', targets: ['1w', '1M'] });
    expect(bars['1M']!.ts.length).to.equal(60);
    const mondayOf = (date: string) => {
      const day = new Date(`${date}T12:00:00Z`);
      day.setUTCDate(day.getUTCDate() - ((day.getUTCDay() + 6) % 7));
      return day.toISOString().slice(0, 10);
    };
    for (const [target, periodOf] of [
      ['1w', mondayOf],
      ['1M', (date: string) => `${date.slice(0, 7)}-01`],
    ] as const) {
      const groups = new Map<string, number[]>();
      for (let i = 0; i < fiveYears.ts.length; i++) {
        const period = periodOf(localDate(fiveYears.ts[i], NEW_YORK));
        groups.set(period, [...(groups.get(period) ?? []), i]);
      }
      const series = bars[target]!;
      expect(Array.from(series.ts)).to.deep.equal([...groups.keys()].map((date) => localMidnight(date, NEW_YORK)));
      [...groups.values()].forEach((group, i) => {
        const actual = {
          open: series.open[i],
          high: series.high[i],
          low: series.low[i],
          close: series.close[i],
          volume: series.volume[i],
        };
        expect(actual).to.deep.equal(ohlcvOf(fiveYears, group));
      });
    }
    const mlkWeek = Array.from(bars['1w']!.ts).map((ts) => localDate(ts, NEW_YORK));
    expect(mlkWeek).to.include('2017-01-16');
    expect(NYSE.isSession('2017-01-16')).to.equal(false);
  });

  it('should carry VWAP as Σ(vwap·v)/Σv, use the typical price without vwap and the close without volume', () => {
    const bars = allocateBars(4);
    const start = NYSE.session('2024-03-05')!.open;
    const rows = [
      [10, 12, 9, 11, 100, 10],
      [11, 12, 10, 11, 300, 11],
      [11, 15, 9, 12, 200, NaN],
      [12, 12, 12, 12, 0, NaN],
    ];
    rows.forEach(([open, high, low, close, volume, vwap], i) => {
      bars.ts[i] = start + i * MINUTE * 5;
      bars.open[i] = open;
      bars.high[i] = high;
      bars.low[i] = low;
      bars.close[i] = close;
      bars.volume[i] = volume;
      bars.vwap[i] = vwap;
      bars.tradeCount[i] = NaN;
    });
    const tens = aggregateBars(bars, { source: '5m', targets: ['15m', '1d'] }).bars;
    expect(tens['15m']!.vwap[0]).to.be.closeTo((10 * 100 + 11 * 300 + 12 * 200) / 600, 1e-12);
    expect(tens['15m']!.vwap[1]).to.equal(12);
    expect(tens['1d']!.vwap[0]).to.be.closeTo((10 * 100 + 11 * 300 + 12 * 200) / 600, 1e-12);
    const twoBars = aggregateBars(sliceBars(bars, 0, 2), { source: '5m', targets: ['1d'] });
    expect(twoBars.bars['1d']!.vwap[0]).to.equal(10.75);
  });

  it('should refuse a target that cannot be built from the source, naming both', () => {
    expect(() => aggregateBars(spy, { source: '1h', targets: ['30m'] })).to.throw(
      RangeError,
      /cannot build 30m bars from 1h bars/,
    );
    expect(() => aggregateBars(spy, { source: '4h', targets: ['6h'] })).to.throw(
      /from 4h the targets are: 8h, 12h, 1d, 2d, 1w, 1M/,
    );
    expect(canDerive('1d', '1w')).to.equal(true);
    expect(canDerive('1w', '1M')).to.equal(false);
    expect(TIMEFRAMES.filter((target: Timeframe) => canDerive('1m', target))).to.deep.equal(ALL_TARGETS);
  });

  it('should name stored variants by session mode, with /natural only where alignment changes the bars', () => {
    expect(variantOf('1h', 'regular', 'session')).to.equal('regular');
    expect(variantOf('1h', 'regular', 'natural')).to.equal('regular/natural');
    expect(variantOf('30m', 'regular', 'natural')).to.equal('regular');
    expect(variantOf('1d', 'extended', 'natural')).to.equal('extended');
    expect(variantOf('4h', '24h', 'natural')).to.equal('24h');
  });
});
