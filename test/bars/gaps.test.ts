import { expect } from 'chai';
import { allocateBars, type BarColumns } from '../../src/bars/columns.js';
import { NYSE } from '../../src/shared/calendar.js';
import { fillGaps, mergeGapReports, scanGaps } from '../../src/bars/gaps.js';
import { localDate, localMidnight } from '../../src/shared/zone.js';
import { NEW_YORK, loadBars, nyTime, rowsWhere } from '../helpers/bars.js';
import { GOOG_1MIN, SPY_1MIN } from '../helpers/data.js';

const MINUTE = 60_000;

/** The series without the rows whose New York time is listed. */
function without(bars: BarColumns, times: string[]): BarColumns {
  const drop = new Set(times);
  const rows = rowsWhere(bars, (ts) => !drop.has(nyTime(ts)));
  const out = allocateBars(rows.length);
  for (const field of ['ts', 'open', 'high', 'low', 'close', 'volume', 'vwap', 'tradeCount'] as const) {
    rows.forEach((row, i) => (out[field][i] = bars[field][row]));
  }
  return out;
}

describe('gaps', () => {
  const spy = loadBars(SPY_1MIN, '1m');
  const goog = loadBars(GOOG_1MIN, '1m');
  const removed = [
    '2013-10-07 09:30',
    '2013-10-07 09:31',
    '2013-10-07 10:00',
    '2013-10-07 10:01',
    '2013-10-07 10:02',
    '2013-10-07 10:03',
    '2013-10-07 10:04',
    '2013-10-08 15:59',
    '2013-10-09 12:00',
  ];

  it('should find no gap in the SPY file, which has every regular minute', () => {
    const report = scanGaps(spy, { timeframe: '1m' });
    expect(report).to.deep.include({
      sessions: 6,
      expected: 6 * 390,
      present: 6 * 390,
      missing: 0,
      longestMissingRun: 0,
      gappy: [],
    });
  });

  it('should count missing minutes, the longest run and the fillable ones when minutes are removed', () => {
    const report = scanGaps(without(spy, removed), { timeframe: '1m' });
    expect(report).to.deep.include({
      sessions: 6,
      expected: 2340,
      present: 2340 - removed.length,
      missing: removed.length,
      longestMissingRun: 5,
    });
    expect(report.longestMissingRunDate).to.equal('2013-10-07');
    expect(report.gappy).to.deep.equal([
      { date: '2013-10-07', expected: 390, present: 383, missing: 7, longestMissingRun: 5, fillable: 5 },
      { date: '2013-10-08', expected: 390, present: 389, missing: 1, longestMissingRun: 1, fillable: 1 },
      { date: '2013-10-09', expected: 390, present: 389, missing: 1, longestMissingRun: 1, fillable: 1 },
    ]);
    expect(report.fillable).to.equal(7);
  });

  it('should expect 210 minutes on the early-close day and nothing over Christmas and the weekend', () => {
    const report = scanGaps(goog, { timeframe: '1m' });
    expect(report.sessions).to.equal(3);
    const present = (date: string) => {
      const session = NYSE.session(date)!;
      return rowsWhere(goog, (ts) => ts >= session.open && ts < session.close).length;
    };
    expect(report.expected).to.equal(390 + 210 + 390);
    expect(report.present).to.equal(present('2015-12-23') + present('2015-12-24') + present('2015-12-28'));
    for (const day of report.gappy) expect(['2015-12-23', '2015-12-24', '2015-12-28']).to.include(day.date);
  });

  it('should report a whole missing session inside the range', () => {
    const report = scanGaps(
      without(
        spy,
        Array.from({ length: 390 }, (_, i) => nyTime(NYSE.session('2013-10-09')!.open + i * MINUTE)),
      ),
      {
        timeframe: '1m',
      },
    );
    expect(report.gappy.find((day) => day.date === '2013-10-09')).to.deep.equal({
      date: '2013-10-09',
      expected: 390,
      present: 0,
      missing: 390,
      longestMissingRun: 390,
      fillable: 0,
    });
  });

  it('should expect 960 minutes a day in the extended session', () => {
    const report = scanGaps(spy, { timeframe: '1m', session: 'extended' });
    expect(report.expected).to.equal(6 * 960);
    expect(report.present).to.equal(spy.ts.length);
  });

  it('should expect one bar per session for daily bars and list the missing session', () => {
    const days = allocateBars(3);
    ['2024-07-01', '2024-07-02', '2024-07-05'].forEach((date, i) => {
      days.ts[i] = localMidnight(date, NEW_YORK);
      days.open[i] = days.high[i] = days.low[i] = days.close[i] = 10;
    });
    const report = scanGaps(days, { timeframe: '1d' });
    expect(report).to.deep.include({ sessions: 4, expected: 4, present: 3, missing: 1 });
    expect(report.gappy.map((day) => day.date)).to.deep.equal(['2024-07-03']);
  });

  it('should forward-fill with the previous close only after the session first bar and within the session', () => {
    const gappy = without(spy, removed);
    const fills = fillGaps(gappy, { timeframe: '1m' });
    expect(Array.from(fills.ts, nyTime)).to.deep.equal(
      removed.filter((time) => !time.endsWith('09:30') && !time.endsWith('09:31')),
    );
    fills.ts.forEach((ts, i) => {
      const previous = rowsWhere(gappy, (t) => t < ts).at(-1)!;
      expect([fills.open[i], fills.high[i], fills.low[i], fills.close[i], fills.vwap[i]]).to.deep.equal(
        Array(5).fill(gappy.close[previous]),
      );
      expect(fills.volume[i]).to.equal(0);
      expect(localDate(gappy.ts[previous], NEW_YORK)).to.equal(localDate(ts, NEW_YORK));
    });
  });

  it('should fill up to the end of the range only when the range ends mid-session', () => {
    const session = NYSE.session('2013-10-10')!;
    const morning = without(
      spy,
      rowsWhere(spy, (ts) => ts >= session.open + 60 * MINUTE).map((row) => nyTime(spy.ts[row])),
    );
    const to = session.open + 90 * MINUTE;
    const fills = fillGaps(morning, { timeframe: '1m', to });
    expect(fills.ts.length).to.equal(30);
    expect(fills.ts[fills.ts.length - 1]).to.equal(to - MINUTE);
    const fiveMinute = fillGaps(morning, { timeframe: '5m', from: session.open, to: session.close });
    expect(fiveMinute.ts.length).to.be.greaterThan(0);
    for (const ts of fiveMinute.ts) expect(ts % (5 * MINUTE)).to.equal(0);
  });

  it('should merge reports of consecutive ranges into the report of the whole range', () => {
    const gappy = without(spy, removed);
    const middle = NYSE.session('2013-10-08')!.close + MINUTE;
    const whole = scanGaps(gappy, {
      timeframe: '1m',
      from: NYSE.session('2013-10-04')!.open,
      to: NYSE.session('2013-10-11')!.close,
    });
    const first = scanGaps(gappy, { timeframe: '1m', from: NYSE.session('2013-10-04')!.open, to: middle });
    const second = scanGaps(gappy, { timeframe: '1m', from: middle, to: NYSE.session('2013-10-11')!.close });
    expect(mergeGapReports(first, second)).to.deep.equal(whole);
  });
});
