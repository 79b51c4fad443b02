import { expect } from 'chai';
import { NYSE } from '../../src/shared/calendar.js';
import {
  AVG_VOLUME_SESSIONS,
  DEFAULT_ETF_THEMES,
  defaultEtfFunds,
  defaultUniverses,
  eodSlot,
  recentEodSessions,
  sectorSlug,
  syncWindow,
  tradingDateSchema,
} from '../../src/universes/universes.js';
import { signalDate } from '../../src/scheduler/eod-signals.js';

describe('universes domain', () => {
  it('should ship seven ETF themes with 58 distinct funds and the documented thresholds', () => {
    expect(DEFAULT_ETF_THEMES.map((theme) => theme.theme)).to.deep.equal([
      'sectors',
      'growth',
      'value',
      'international',
      'commodities',
      'technology',
      'bonds',
    ]);
    expect(defaultEtfFunds()).to.have.length(58);
    const sectors = DEFAULT_ETF_THEMES[0].funds.map(([symbol]) => symbol);
    expect(sectors.every((symbol) => symbol.startsWith('XL'))).to.equal(true);
    expect(sectors.length).to.be.at.least(10);
    for (const theme of DEFAULT_ETF_THEMES) {
      const expectedAum = { international: 500e6, commodities: 200e6 }[theme.theme] ?? 1e9;
      expect(theme.filter.min_aum, theme.theme).to.equal(expectedAum);
      expect(theme.filter.max_expense_ratio, theme.theme).to.equal(0.0075);
    }
    expect(defaultUniverses().map((universe) => universe.key)).to.include.members([
      'top_100',
      'top_500',
      'top_1000',
      'ipo_recent',
      'etf_bonds',
    ]);
  });

  it('should slug sector names into universe keys', () => {
    expect(sectorSlug('Information Technology')).to.equal('information_technology');
    expect(sectorSlug('  Health-Care & Pharma ')).to.equal('health_care_pharma');
  });

  it('should read closes before the next local midnight and volumes from the twentieth session back', () => {
    const window = syncWindow('2018-02-07');
    expect(window.dayEnd.toISOString()).to.equal('2018-02-08T05:00:00.000Z');
    const sessions = NYSE.sessionsBetween('2018-01-01', '2018-02-07');
    expect(window.volumeFrom.toISOString()).to.equal(`${sessions[sessions.length - AVG_VOLUME_SESSIONS].date}T05:00:00.000Z`);
    expect(() => syncWindow('2018-02-10')).to.throw(/not an NYSE session/);
  });

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
    for (const date of ['2018-02-10', '2018-02-19', '2018-02-30', '1999-12-31', '7 Feb']) {
      expect(tradingDateSchema.safeParse(date).success, date).to.equal(false);
    }
  });

  it('should take the trading date of an eod_complete message from the envelope or a bare object', () => {
    expect(signalDate(JSON.stringify({ event_type: 'eod.complete', data: { trading_date: '2018-02-07' } }))).to.equal(
      '2018-02-07',
    );
    expect(signalDate(JSON.stringify({ data: { date: '2018-02-08' } }))).to.equal('2018-02-08');
    expect(signalDate(JSON.stringify({ trading_date: '2018-02-09' }))).to.equal('2018-02-09');
    expect(signalDate(JSON.stringify({ data: { date: 'yesterday' } }))).to.equal(undefined);
    expect(signalDate('not json')).to.equal(undefined);
  });
});
