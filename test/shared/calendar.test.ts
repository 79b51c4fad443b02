import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { NYSE } from '../../src/shared/calendar.js';
import { dataFile } from '../helpers/data.js';

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

  it('should agree with the LEAN market-hours database on every weekday holiday and early close 2000–2028', () => {
    const lean = JSON.parse(readFileSync(dataFile('market_hours_subset.json'), 'utf8')) as {
      entries: Record<string, { holidays: string[]; earlyCloses: Record<string, string> }>;
    };
    const equity = lean.entries['Equity-usa-[*]'];
    const inRange = (date: string) => date >= '2000-01-01' && date <= '2028-12-31';
    const weekday = (date: string) => ![0, 6].includes(new Date(`${date}T12:00:00Z`).getUTCDay());
    const leanHolidays = equity.holidays
      .map(leanDate)
      .filter((d) => inRange(d) && weekday(d))
      .sort();
    const ours = Array.from({ length: 29 }, (_, i) => NYSE.holidays(2000 + i))
      .flat()
      .sort();
    expect(ours).to.deep.equal(leanHolidays);
    const leanEarly = Object.keys(equity.earlyCloses)
      .map(leanDate)
      .filter((d) => inRange(d) && NYSE.isSession(d))
      .sort();
    const ourEarly = Array.from({ length: 29 }, (_, i) => NYSE.earlyCloses(2000 + i))
      .flat()
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

  it('should refuse dates outside its range with a message naming the range', () => {
    expect(() => NYSE.isSession('1999-12-31')).to.throw(RangeError, /outside the XNYS calendar \(2000-01-01 … 2030-12-31\)/);
  });
});
