import { expect } from 'chai';
import { NYSE } from '../../src/shared/calendar.js';
import { resolveBound, rangeBoundSchema } from '../../src/bars/ranges.js';
import { periodBounds, sessionTable } from '../../src/bars/sessions.js';
import { fromWallClock, localMidnight } from '../../src/shared/zone.js';
import { NEW_YORK, nyTime } from '../helpers/bars.js';

describe('session windows, periods and range bounds', () => {
  it('should open extended hours at 04:00 and close them at 20:00, or 17:00 after a 13:00 close, across DST', () => {
    const { start, end } = NYSE.windows('extended', NYSE.sessionsThrough(2024));
    for (const date of ['2024-03-08', '2024-03-11', '2024-11-01', '2024-11-04', '2024-11-29']) {
      const session = NYSE.session(date)!;
      expect(nyTime(start[session.index]), date).to.equal(`${date} 04:00`);
      expect(nyTime(end[session.index]), date).to.equal(`${date} ${session.earlyClose ? '17:00' : '20:00'}`);
    }
    const regular = NYSE.windows('regular', NYSE.sessionsThrough(2024));
    const eve = NYSE.session('2015-12-24')!;
    expect([regular.start[eve.index], regular.end[eve.index]]).to.deep.equal([eve.open, eve.close]);
  });

  it('should label each session with the midnights of its day, pair, Monday and month', () => {
    const table = sessionTable('regular', NYSE, 0, 0);
    // 2d pairs start at 2000-01-03, as they did before the calendar reached back to 1990.
    const anchor = NYSE.session('2000-01-03')!.index;
    expect(table.pair[anchor + 1]).to.equal(localMidnight('2000-01-03', NEW_YORK));
    for (let i = 1; i < table.length; i += 97) {
      const date = table.date(i);
      expect(table.day[i], date).to.equal(localMidnight(date, NEW_YORK));
      expect(table.pair[i], date).to.equal(localMidnight(table.date(i - ((((i - anchor) % 2) + 2) % 2)), NEW_YORK));
      expect(table.month[i], date).to.equal(localMidnight(`${date.slice(0, 8)}01`, NEW_YORK));
      expect(new Date(table.week[i] + 12 * 3_600_000).getUTCDay(), date).to.equal(1);
    }
  });

  it('should stretch a batch range to whole days, pairs, weeks and months', () => {
    const wednesdayNoon = fromWallClock(2024, 3, 13, 12, 0, NEW_YORK);
    const bounds = (timeframe: '1h' | '2d' | '1w' | '1M') => {
      const { start, end } = periodBounds(timeframe, wednesdayNoon, 'regular', NYSE);
      return [nyTime(start), nyTime(end)];
    };
    expect(bounds('1h')).to.deep.equal(['2024-03-13 00:00', '2024-03-14 00:00']);
    expect(bounds('1w')).to.deep.equal(['2024-03-11 00:00', '2024-03-18 00:00']);
    expect(bounds('1M')).to.deep.equal(['2024-03-01 00:00', '2024-04-01 00:00']);
    const [pairStart, pairEnd] = bounds('2d');
    expect(NYSE.session(pairStart.slice(0, 10))!.index % 2).to.equal(0);
    expect(NYSE.sessionsBetween(pairStart.slice(0, 10), pairEnd.slice(0, 10)).length).to.equal(3);
    const utc = periodBounds('1w', wednesdayNoon, '24h', NYSE);
    expect([new Date(utc.start).toISOString(), new Date(utc.end).toISOString()]).to.deep.equal([
      '2024-03-11T00:00:00.000Z',
      '2024-03-18T00:00:00.000Z',
    ]);
  });

  it('should read a date as a whole day on the mode clock, to inclusive, and an instant as itself', () => {
    expect(resolveBound('2024-03-05', 'from', 'regular', NYSE)).to.equal(localMidnight('2024-03-05', NEW_YORK));
    expect(resolveBound('2024-03-05', 'to', 'regular', NYSE)).to.equal(localMidnight('2024-03-06', NEW_YORK));
    expect(resolveBound('2024-03-05', 'to', '24h', NYSE)).to.equal(Date.UTC(2024, 2, 6));
    expect(resolveBound('2024-03-05T14:30:00Z', 'to', 'regular', NYSE)).to.equal(Date.UTC(2024, 2, 5, 14, 30));
    expect(rangeBoundSchema.safeParse('2024-02-30').success).to.equal(false);
    expect(rangeBoundSchema.safeParse('2024-03-05T14:30:00').success).to.equal(false);
  });
});
