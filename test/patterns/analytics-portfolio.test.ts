import { expect } from 'chai';
import { portfolioImpact } from '../../src/patterns/analytics-portfolio.js';

describe('portfolio impact', () => {
  // Worked by hand: weights 3 : 1 → 0.75 / 0.25, horizon 2 bars.
  const impact = portfolioImpact(
    [
      {
        symbol: 'A',
        weight: 3,
        close: [100, 110, 121, 121, 108.9],
        detections: [
          { bar: 0, pattern: 'x', direction: 1 },
          { bar: 2, pattern: 'y', direction: -1 },
        ],
      },
      { symbol: 'B', weight: 1, close: [50, 50, 55, 60.5, 60.5], detections: [{ bar: 1, pattern: 'x', direction: 1 }] },
    ],
    2,
  );

  it('should weigh buy-and-hold and the signal-following portfolio by the normalised weights', () => {
    expect(impact.holdings).to.deep.equal([
      { symbol: 'A', weight: 0.75 },
      { symbol: 'B', weight: 0.25 },
    ]);
    expect(impact.buyAndHoldReturn).to.be.closeTo(0.75 * 0.089 + 0.25 * 0.21, 1e-12);
    // A: long over bars 1–2 (+10 %, +10 %), short over 3–4 (0 %, −10 %) → 1.1 · 1.1 · 1 · 1.1; B: long over 2–3.
    expect(impact.signalFollowingReturn).to.be.closeTo(0.75 * 0.331 + 0.25 * 0.21, 1e-12);
  });

  it('should compare the returns after bullish and bearish signals with entering at any bar', () => {
    const baseline = 0.75 * ((0.21 + 0.1 - 0.1) / 3) + 0.25 * ((0.1 + 0.21 + 0.1) / 3);
    expect(impact.unconditionalForwardReturn).to.be.closeTo(baseline, 1e-12);
    expect(impact.afterBullishSignals).to.deep.include({ signals: 2, measured: 2, hitRate: 1 });
    expect(impact.afterBullishSignals.meanForwardReturn).to.be.closeTo(0.21, 1e-12);
    expect(impact.afterBullishSignals.excessReturn).to.be.closeTo(0.21 - baseline, 1e-12);
    expect(impact.afterBearishSignals).to.deep.include({ signals: 1, measured: 1, hitRate: 1 });
    expect(impact.afterBearishSignals.meanForwardReturn).to.be.closeTo(-0.1, 1e-12);
  });

  it('should give each pattern its weighted share of bars under an active signal', () => {
    const [x, y] = impact.exposureByPattern;
    expect(x).to.deep.include({ pattern: 'x', signals: 2, bullish: 2, bearish: 0, netDirection: 1 });
    expect(x.exposure).to.be.closeTo(0.75 * (2 / 4) + 0.25 * (2 / 4), 1e-12);
    expect(x.meanForwardReturn).to.be.closeTo(0.21, 1e-12);
    expect(y).to.deep.include({ pattern: 'y', signals: 1, bullish: 0, bearish: 1, netDirection: -1 });
    expect(y.exposure).to.be.closeTo(0.75 * (2 / 4), 1e-12);
  });

  it('should count a signal too late to measure without giving it a return', () => {
    const late = portfolioImpact(
      [{ symbol: 'A', weight: 1, close: [10, 11, 12], detections: [{ bar: 2, pattern: 'x', direction: 1 }] }],
      2,
    );
    expect(late.afterBullishSignals).to.deep.equal({
      signals: 1,
      measured: 0,
      meanForwardReturn: null,
      hitRate: null,
      excessReturn: null,
    });
    expect(late.unconditionalForwardReturn).to.be.closeTo(0.2, 1e-12);
  });
});
