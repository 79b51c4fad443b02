import { expect } from 'chai';
import { analysisSettingsSchema } from '../../src/patterns/analytics-dataset.js';
import { regimeImpact } from '../../src/patterns/analytics-regime.js';
import { seasonality } from '../../src/patterns/analytics-seasonal.js';
import { chiSquareIndependence, wilsonInterval } from '../../src/patterns/analytics-statistics.js';
import { type SyntheticDetection, analyticsInput, plantedHistory, sessionTs } from './analytics-input.js';

describe('regime impact and seasonality', () => {
  const settings = analysisSettingsSchema.parse({ minCellCount: 2 });

  it('should count success by regime, volatility and sector as a hand tally does', () => {
    // Sessions 0–9 bull, 10–19 bear, 20–29 neutral; volatility low before 15, high after.
    const rows: SyntheticDetection[] = [
      { symbol: 0, session: 1, pattern: 0, success: 1, sector: 0 },
      { symbol: 0, session: 2, pattern: 0, success: 1, sector: 0 },
      { symbol: 1, session: 3, pattern: 0, success: 0, sector: 1 },
      { symbol: 0, session: 11, pattern: 0, success: 0, sector: 0 },
      { symbol: 1, session: 12, pattern: 0, success: 1, sector: 1 },
      { symbol: 1, session: 16, pattern: 0, success: 0, sector: 1 },
      { symbol: 0, session: 21, pattern: 0, success: 1, sector: 0 },
      { symbol: 0, session: 38, pattern: 0, success: 1, sector: 0 }, // outcome not known yet
      { symbol: 0, session: 4, pattern: 1, success: 1, sector: 0 },
    ];
    const input = analyticsInput({
      patterns: ['alpha', 'beta'],
      symbols: 2,
      sessions: 40,
      sectors: ['Energy', 'Utilities'],
      regime: (t) => (t < 10 ? 0 : t < 20 ? 1 : 2),
      volatility: (t) => (t < 15 ? 0 : 2),
      detections: rows,
    });
    const [alpha, beta] = regimeImpact(input, settings);
    expect(alpha.pattern).to.equal('alpha');
    expect(alpha.overall).to.deep.include({ count: 7, successes: 4 });
    expect(alpha.bullMarketSuccessRate).to.deep.equal({
      successRate: 2 / 3,
      count: 3,
      successes: 2,
      confidenceInterval: wilsonInterval(2, 3),
    });
    expect(alpha.bearMarketSuccessRate).to.deep.include({ count: 3, successes: 1 });
    expect(alpha.neutralMarketSuccessRate).to.deep.include({ count: 1, successes: 1 });
    expect(alpha.byVolatility.low).to.deep.include({ count: 5, successes: 3 });
    expect(alpha.byVolatility.high).to.deep.include({ count: 2, successes: 1 });
    expect(alpha.byVolatility.normal).to.deep.include({ count: 0, successRate: null, confidenceInterval: null });
    expect(alpha.volatilityImpactFactor).to.be.closeTo(1 / 2 / (3 / 5), 1e-12);
    const expected = chiSquareIndependence([
      [2, 1, 1],
      [1, 2, 0],
    ]);
    expect(alpha.regimeDependence.chiSquare).to.be.closeTo(expected.statistic, 1e-12);
    expect(alpha.regimeDependence.pValue).to.be.closeTo(expected.pValue, 1e-12);
    expect(alpha.sectorDependency.sectors.map(({ sector, count, successes }) => ({ sector, count, successes }))).to.deep.equal([
      { sector: 'Energy', count: 4, successes: 3 },
      { sector: 'Utilities', count: 3, successes: 1 },
    ]);
    // Cells with at least two detections: bull/low 2 of 3, bear/low 1 of 2; bull/low has the higher lower bound.
    expect(alpha.optimalMarketConditions).to.deep.include({ regime: 'bull', volatilityRegime: 'low', count: 3, successes: 2 });
    expect(beta.overall).to.deep.include({ count: 1, successes: 1 });
    expect(beta.regimeDependence.pValue).to.equal(1);
  });

  it('should find a regime dependence only for the pattern that has one', () => {
    const history = plantedHistory({
      seed: 10,
      symbols: 30,
      sessions: 400,
      patterns: ['planted', 'plain'],
      rate: 0.03,
      success: (pattern, regime) => (pattern === 0 && regime === 0 ? 0.8 : 0.5),
      regime: (t) => (Math.floor(t / 50) % 2 === 0 ? 0 : 1),
    });
    const [planted, plain] = regimeImpact(analyticsInput(history), analysisSettingsSchema.parse({}));
    expect(planted.regimeDependence.adjustedPValue).to.be.below(1e-4);
    const [bullLow, bullHigh] = planted.bullMarketSuccessRate.confidenceInterval!;
    const [bearLow, bearHigh] = planted.bearMarketSuccessRate.confidenceInterval!;
    expect(0.8).to.be.within(bullLow, bullHigh);
    expect(0.5).to.be.within(bearLow, bearHigh);
    expect(bullLow).to.be.above(bearHigh);
    expect(planted.optimalMarketConditions).to.deep.include({ regime: 'bull' });
    expect(plain.regimeDependence.adjustedPValue).to.be.above(0.05);
  });

  it('should break success down by month and weekday and test it when given dated detections', () => {
    // Pattern 0 succeeds on Mondays only; pattern 1 half the time on every weekday.
    const rows: SyntheticDetection[] = [];
    for (let session = 0; session < 500; session++) {
      const weekday = new Date(sessionTs(session)).getUTCDay();
      rows.push({ symbol: 0, session, pattern: 0, success: weekday === 1 ? 1 : 0 });
      rows.push({ symbol: 1, session, pattern: 1, success: (session >> 1) % 2 === 0 ? 1 : 0 });
    }
    const input = analyticsInput({ patterns: ['monday', 'flat'], symbols: 2, sessions: 510, detections: rows });
    const [monday, flat] = seasonality(input, settings, false);
    expect(monday.byHour).to.equal(null);
    expect(monday.byWeekday.seasons.map((season) => [season.season, season.successRate])).to.deep.equal([
      [1, 1],
      [2, 0],
      [3, 0],
      [4, 0],
      [5, 0],
    ]);
    expect(monday.byWeekday.significance.adjustedPValue).to.be.below(1e-10);
    const january = rows.filter((row) => row.pattern === 0 && new Date(sessionTs(row.session)).getUTCMonth() === 0);
    expect(monday.byMonth.seasons[0]).to.deep.include({
      season: 1,
      count: january.length,
      successes: january.filter((row) => row.success).length,
    });
    expect(flat.byWeekday.significance.adjustedPValue).to.be.above(0.05);
  });
});
