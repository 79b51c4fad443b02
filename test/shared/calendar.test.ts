import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { NYSE, NYSE_RULES, TradingCalendar, tradingDateSchema } from '../../src/shared/calendar.js';
import { nyTime } from '../helpers/bars.js';
import { dataFile } from '../helpers/data.js';

/** The independent calendars committed beside this test (see nyse-calendar/README.md). */
const fixture = (name: string) => fileURLToPath(new URL(`../../../test/shared/nyse-calendar/${name}`, import.meta.url));

/** The table in research/market-semantics.md §4 (2020–2027). */
const TABLE: Record<number, { holidays: string[]; early: string[]; sessions: number }> = {
  2020: {
    holidays: ['01-01', '01-20', '02-17', '04-10', '05-25', '07-03', '09-07', '11-26', '12-25'],
    early: ['11-27', '12-24'],
    sessions: 253,
  },
  2021: {
    holidays: ['01-01', '01-18', '02-15', '04-02', '05-31', '07-05', '09-06', '11-25', '12-24'],
    early: ['11-26'],
    sessions: 252,
  },
  2022: {
    holidays: ['01-17', '02-21', '04-15', '05-30', '06-20', '07-04', '09-05', '11-24', '12-26'],
    early: ['11-25'],
    sessions: 251,
  },
  2023: {
    holidays: ['01-02', '01-16', '02-20', '04-07', '05-29', '06-19', '07-04', '09-04', '11-23', '12-25'],
    early: ['07-03', '11-24'],
    sessions: 250,
  },
  2024: {
    holidays: ['01-01', '01-15', '02-19', '03-29', '05-27', '06-19', '07-04', '09-02', '11-28', '12-25'],
    early: ['07-03', '11-29', '12-24'],
    sessions: 252,
  },
  2025: {
    holidays: ['01-01', '01-09', '01-20', '02-17', '04-18', '05-26', '06-19', '07-04', '09-01', '11-27', '12-25'],
    early: ['07-03', '11-28', '12-24'],
    sessions: 250,
  },
  2026: {
    holidays: ['01-01', '01-19', '02-16', '04-03', '05-25', '06-19', '07-03', '09-07', '11-26', '12-25'],
    early: ['11-27', '12-24'],
    sessions: 251,
  },
  2027: {
    holidays: ['01-01', '01-18', '02-15', '03-26', '05-31', '06-18', '07-05', '09-06', '11-25', '12-24'],
    early: ['11-26'],
    sessions: 251,
  },
};

/** LEAN's market-hours database dates are M/D/YYYY. */
function leanDate(text: string): string {
  const [month, day, year] = text.split('/').map(Number);
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

describe('NYSE calendar', () => {
  for (const [year, expected] of Object.entries(TABLE)) {
    it(`should match the research table for ${year}`, () => {
      expect(NYSE.holidays(Number(year)).map((d) => d.slice(5))).to.deep.equal(expected.holidays);
      expect(NYSE.earlyCloses(Number(year)).map((d) => d.slice(5))).to.deep.equal(expected.early);
      expect(NYSE.sessionCount(Number(year))).to.equal(expected.sessions);
    });
  }

  it('should agree with the LEAN market-hours database on every weekday holiday and early close 1998–2028', () => {
    const lean = JSON.parse(readFileSync(dataFile('market_hours_subset.json'), 'utf8')) as {
      entries: Record<string, { holidays: string[]; earlyCloses: Record<string, string> }>;
    };
    const equity = lean.entries['Equity-usa-[*]'];
    const inRange = (date: string) => date >= '1998-01-01' && date <= '2028-12-31';
    const weekday = (date: string) => ![0, 6].includes(new Date(`${date}T12:00:00Z`).getUTCDay());
    const leanHolidays = equity.holidays
      .map(leanDate)
      .filter((d) => inRange(d) && weekday(d))
      .sort();
    const ours = Array.from({ length: 31 }, (_, i) => NYSE.holidays(1998 + i))
      .flat()
      .sort();
    expect(ours).to.deep.equal(leanHolidays);
    // LEAN's early closes begin in 1999.
    const leanEarly = Object.keys(equity.earlyCloses)
      .map(leanDate)
      .filter((d) => inRange(d) && NYSE.isSession(d))
      .sort();
    // LEAN lists the 13:00 closes only.
    const ourEarly = Array.from({ length: 30 }, (_, i) => NYSE.earlyCloses(1999 + i))
      .flat()
      .filter((date) => nyTime(NYSE.session(date)!.close).endsWith('13:00'))
      .sort();
    expect(ourEarly).to.deep.equal(leanEarly);
  });

  it('should not observe a Saturday New Year on the Friday before', () => {
    expect(NYSE.isSession('2021-12-31')).to.equal(true);
    expect(NYSE.isSession('2027-12-31')).to.equal(true);
    expect(NYSE.isSession('2023-01-02')).to.equal(false);
  });

  it('should give session instants in New York wall-clock time on both sides of DST', () => {
    expect(new Date(NYSE.session('2008-03-07')!.open).toISOString()).to.equal('2008-03-07T14:30:00.000Z');
    expect(new Date(NYSE.session('2008-03-10')!.open).toISOString()).to.equal('2008-03-10T13:30:00.000Z');
    const christmasEve = NYSE.session('2015-12-24')!;
    expect(christmasEve.earlyClose).to.equal(true);
    expect(new Date(christmasEve.close).toISOString()).to.equal('2015-12-24T18:00:00.000Z');
  });

  it('should step between sessions over weekends and holidays', () => {
    expect(NYSE.nextSession('2015-12-24').date).to.equal('2015-12-28');
    expect(NYSE.previousSession('2015-12-28').date).to.equal('2015-12-24');
    expect(NYSE.sessionsBetween('2001-09-10', '2001-09-17').map((s) => s.date)).to.deep.equal(['2001-09-10', '2001-09-17']);
    const a = NYSE.session('2013-10-07')!;
    expect(NYSE.sessionAt(a.index + 1)!.date).to.equal('2013-10-08');
  });

  it('should find the session of an instant only inside regular hours', () => {
    expect(NYSE.sessionAtInstant(Date.parse('2013-10-04T13:30:00Z'))?.date).to.equal('2013-10-04');
    expect(NYSE.sessionAtInstant(Date.parse('2013-10-04T20:00:00Z'))).to.equal(undefined);
    expect(NYSE.sessionAtInstant(Date.parse('2013-10-05T15:00:00Z'))).to.equal(undefined);
  });

  it('should agree with independent closure lists on every weekday 1990–2050', () => {
    const pmc = new Set(readFileSync(fixture('pmc-full-day-closures.txt'), 'utf8').trim().split('\n').map(leanDate));
    const rules = new Set(
      readFileSync(fixture('nyse-holidays-1990-2050.csv'), 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => line.slice(0, 10)),
    );
    // The one ad-hoc closure after the pandas_market_calendars list ends (see the fixture README).
    const adhocSince = new Set(['2025-01-09']);
    const disagreements: string[] = [];
    let weekdays = 0;
    for (let day = Date.UTC(1990, 0, 1); day <= Date.UTC(2050, 11, 31); day += 86_400_000) {
      const date = new Date(day).toISOString().slice(0, 10);
      if ([0, 6].includes(new Date(day).getUTCDay())) continue;
      weekdays++;
      const closed = date <= '2021-07-05' ? pmc.has(date) : rules.has(date) || adhocSince.has(date);
      if (rules.has(date) && !closed) disagreements.push(`${date}: a regular holiday the closure list lacks`);
      if (NYSE.isSession(date) === closed) disagreements.push(`${date}: ours ${NYSE.isSession(date) ? 'open' : 'closed'}`);
    }
    expect(disagreements).to.deep.equal([]);
    expect(weekdays).to.equal(15_915);
  });

  it('should close early as NYSE did before 1993: 14:00 on Christmas Eve, no early July 3 or Black Friday in 1990', () => {
    const rows = readFileSync(fixture('exchange-calendars-1990-rows.csv'), 'utf8').trim().split('\n').slice(1);
    for (const row of rows) {
      const [date, , close] = row.split(',');
      expect(new Date(NYSE.session(date)!.close).toISOString(), date).to.equal(`${close.replace(' ', 'T')}.000Z`);
    }
    expect(nyTime(NYSE.session('1992-11-27')!.close)).to.equal('1992-11-27 14:00');
    expect(nyTime(NYSE.session('1993-11-26')!.close)).to.equal('1993-11-26 13:00');
    expect(nyTime(NYSE.session('1997-10-27')!.close)).to.equal('1997-10-27 15:30');
    expect(NYSE.session('1999-12-31')!.earlyClose).to.equal(false);
  });

  it('should number sessions from 1990 and keep 2000-01-03 on an even offset from the first', () => {
    expect(NYSE.sessionAt(0)!.date).to.equal('1990-01-02');
    expect(NYSE.session('2000-01-03')!.index % 2).to.equal(0);
    for (const date of ['1990-01-02', '1998-06-15', '2024-03-11', '2150-06-01']) {
      const session = NYSE.session(date)!;
      expect(NYSE.sessionAt(session.index)).to.deep.equal(session);
    }
  });

  it('should answer for a far year without working out the years between, in well under a second', () => {
    const calendar = new TradingCalendar(NYSE_RULES);
    const started = performance.now();
    expect(calendar.isSession('2187-07-04')).to.equal(false);
    expect(calendar.session('2187-07-06')!.date).to.equal('2187-07-06');
    const [july3, dayAfterThanksgiving, christmasEve] = calendar.earlyCloses(2187);
    expect([july3, christmasEve]).to.deep.equal(['2187-07-03', '2187-12-24']);
    expect(calendar.previousSession(dayAfterThanksgiving).date < dayAfterThanksgiving).to.equal(true);
    expect(calendar.isHoliday(new Date(Date.parse(dayAfterThanksgiving) - 86_400_000).toISOString().slice(0, 10))).to.equal(true);
    expect(performance.now() - started).to.be.below(500);
  });

  it('should refuse dates outside its range with a message naming the range', () => {
    expect(() => NYSE.isSession('1989-12-29')).to.throw(RangeError, /outside the XNYS calendar \(1990-01-01 … 2199-12-31\)/);
    expect(() => NYSE.isSession('2200-01-02')).to.throw(RangeError, /outside the XNYS calendar/);
    expect(tradingDateSchema.safeParse('1998-01-02').success).to.equal(true);
    expect(tradingDateSchema.safeParse('2099-12-31').success).to.equal(true);
    const refused = tradingDateSchema.safeParse('1989-12-29');
    expect(refused.success ? '' : refused.error.issues[0].message).to.equal(
      'must be an NYSE trading session (1990-01-01 … 2199-12-31)',
    );
  });
});
