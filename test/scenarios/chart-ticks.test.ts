import { expect } from 'chai';
import { timeTicks } from '../../src/scenarios/chart-ticks.js';

const NY = 'America/New_York';
/** New York midnight of each weekday from `from` for `days` calendar days. */
function dailyTs(from: string, days: number): number[] {
  const out: number[] = [];
  for (let d = 0; d < days; d++) {
    const t = Date.parse(`${from}T05:00:00Z`) + d * 86_400_000;
    const weekday = new Date(t).getUTCDay();
    if (weekday !== 0 && weekday !== 6) out.push(t);
  }
  return out;
}

describe('chart time ticks', () => {
  it('should label month starts with the year when the bars are daily', () => {
    const ticks = timeTicks(dailyTs('2020-01-01', 120), false, NY);
    expect(ticks.map((t) => t.label)).to.deep.equal(['Jan 2020', 'Feb 2020', 'Mar 2020', 'Apr 2020']);
  });

  it('should thin month ticks to a readable number when the bars span years', () => {
    const ticks = timeTicks(dailyTs('2018-01-01', 3 * 365), false, NY);
    expect(ticks.length).to.be.at.most(10).and.at.least(5);
    expect(ticks[0].label).to.equal('Jan 2018');
    expect(ticks.every((t) => /^[A-Z][a-z]{2} \d{4}$/.test(t.label))).to.equal(true);
  });

  it('should label each session with its date and year when intraday bars span several days', () => {
    const minutes = [0, 1].flatMap((day) =>
      Array.from({ length: 390 }, (_, m) => Date.parse('2013-10-07T13:30:00Z') + day * 86_400_000 + m * 60_000),
    );
    expect(timeTicks(minutes, true, NY).map((t) => t.label)).to.deep.equal(['2013-10-07', '2013-10-08']);
  });

  it('should label whole hours when intraday bars cover one session', () => {
    const minutes = Array.from({ length: 390 }, (_, m) => Date.parse('2013-10-07T13:30:00Z') + m * 60_000);
    expect(timeTicks(minutes, true, NY).map((t) => t.label)).to.deep.equal([
      '10:00',
      '11:00',
      '12:00',
      '13:00',
      '14:00',
      '15:00',
    ]);
  });
});
