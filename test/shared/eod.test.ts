import { expect } from 'chai';
import { tradingDateSchema } from '../../src/shared/calendar.js';
import { eodSlot, recentEodSessions } from '../../src/shared/eod.js';

describe('end-of-day sessions', () => {
  it('should list the last sessions whose 16:30 New York slot has passed, oldest first', () => {
    expect(new Date(eodSlot('2018-07-02')).toISOString()).to.equal('2018-07-02T20:30:00.000Z');
    // Monday 2018-02-19 is Presidents' Day; at 16:00 on Tuesday the 20th its slot has not come.
    expect(recentEodSessions(Date.parse('2018-02-20T21:00:00Z'), 3)).to.deep.equal(['2018-02-14', '2018-02-15', '2018-02-16']);
    expect(recentEodSessions(Date.parse('2018-02-20T21:30:00Z'), 2)).to.deep.equal(['2018-02-16', '2018-02-20']);
    // Late Saturday evening UTC is still Saturday in New York: Friday is the last slot.
    expect(recentEodSessions(Date.parse('2018-02-18T02:00:00Z'), 1)).to.deep.equal(['2018-02-16']);
    expect(recentEodSessions(Date.now(), 0)).to.deep.equal([]);
  });

  it('should accept only NYSE sessions as trading dates', () => {
    expect(tradingDateSchema.safeParse('2018-02-07').success).to.equal(true);
    for (const date of ['2018-02-10', '2018-02-19', '2018-02-30', '1989-12-29', '7 Feb']) {
      expect(tradingDateSchema.safeParse(date).success, date).to.equal(false);
    }
  });
});
