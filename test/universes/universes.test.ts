import { expect } from 'chai';
import { NYSE } from '../../src/shared/calendar.js';
import {
  AVG_VOLUME_SESSIONS,
  DEFAULT_ETF_THEMES,
  defaultEtfFunds,
  defaultUniverses,
  sectorSlug,
  syncWindow,
} from '../../src/universes/universes.js';
import { signalDate } from '../../src/scheduler/eod-signals.js';

describe('universes domain', () => {
  it("should ship seven ETF themes whose funds are their distinct anchors (VTI among them) and the report's default filters", () => {
    expect(DEFAULT_ETF_THEMES.map((theme) => theme.theme)).to.deep.equal([
      'sectors',
      'growth',
      'value',
      'international',
      'commodities',
      'technology',
      'bonds',
    ]);
    const anchors = new Set(DEFAULT_ETF_THEMES.flatMap((theme) => theme.anchors.map(([symbol]) => symbol)));
    expect(defaultEtfFunds().map((fund) => fund.symbol).sort()).to.deep.equal([...anchors].sort());
    expect(defaultEtfFunds().map((fund) => fund.symbol)).to.include('VTI');
    const sectors = DEFAULT_ETF_THEMES[0].anchors.map(([symbol]) => symbol);
    expect(sectors.every((symbol) => symbol.startsWith('XL'))).to.equal(true);
    expect(sectors.length).to.be.at.least(10);
    for (const theme of DEFAULT_ETF_THEMES) {
      const expectedAum = { international: 500e6, commodities: 200e6 }[theme.theme] ?? 1e9;
      expect(theme.filter.min_aum, theme.theme).to.equal(expectedAum);
      expect(theme.filter.max_expense_ratio, theme.theme).to.equal(0.0075);
      expect(theme.filter.min_avg_volume, theme.theme).to.equal(5e6);
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
