import { expect } from 'chai';
import {
  adjustBenjaminiHochberg,
  areaUnderRoc,
  brierScore,
  chiSquareIndependence,
  logLoss,
  mantelHaenszel,
  wilsonInterval,
} from '../../src/patterns/analytics-statistics.js';

// Reference values from an independent implementation: SciPy 1.17 (chi2_contingency(correction=False),
// chi2.sf, poisson.cdf, binomtest(...).proportion_ci(method='wilson'),
// false_discovery_control, mannwhitneyu).
describe('analytics statistics', () => {
  it('should match the Wilson interval when given counts, edge counts and another level', () => {
    const [low, high] = wilsonInterval(81, 263);
    expect(low).to.be.closeTo(0.2552885198782742, 1e-9);
    expect(high).to.be.closeTo(0.36620957698280004, 1e-9);
    const [zeroLow, zeroHigh] = wilsonInterval(0, 10);
    expect(zeroLow).to.equal(0);
    expect(zeroHigh).to.be.closeTo(0.27753279986288926, 1e-9);
    const [ninetyLow, ninetyHigh] = wilsonInterval(9, 10, 0.9);
    expect(ninetyLow).to.be.closeTo(0.6522813326641417, 1e-9);
    expect(ninetyHigh).to.be.closeTo(0.9773650912691327, 1e-9);
    expect(wilsonInterval(0, 0).every(Number.isNaN)).to.equal(true);
  });

  it('should match the χ² test of independence when given 2 × 2 and 2 × 3 tables', () => {
    const square = chiSquareIndependence([
      [20, 15],
      [30, 35],
    ]);
    expect(square.statistic).to.be.closeTo(1.098901098901099, 1e-9);
    expect(square.pValue).to.be.closeTo(0.29450739368010714, 1e-9);
    const wide = chiSquareIndependence([
      [12, 7, 9],
      [5, 14, 11],
    ]);
    expect(wide.statistic).to.be.closeTo(5.353085901027075, 1e-9);
    expect(wide.degreesOfFreedom).to.equal(2);
    expect(wide.pValue).to.be.closeTo(0.06880059054935045, 1e-9);
    expect(wide.cramersV).to.be.closeTo(Math.sqrt(5.353085901027075 / 58), 1e-12);
  });

  it('should leave out empty columns and give p = 1 when a table has one used row', () => {
    const withEmpty = chiSquareIndependence([
      [20, 0, 15],
      [30, 0, 35],
    ]);
    expect(withEmpty.degreesOfFreedom).to.equal(1);
    expect(withEmpty.pValue).to.be.closeTo(0.29450739368010714, 1e-9);
    expect(
      chiSquareIndependence([
        [4, 5, 6],
        [0, 0, 0],
      ]).pValue,
    ).to.equal(1);
  });

  it('should give the Mantel–Haenszel χ² of one stratum as (N − 1) / N of Pearson’s when given a 2 × 2 table', () => {
    // [[20, 15], [30, 35]]: exposed row 35 of 100, events column 50; E = 35 · 50 / 100,
    // V = 35 · 65 · 50 · 50 / (100² · 99).
    const association = mantelHaenszel(20, 17.5, (35 * 65 * 50 * 50) / (100 * 100 * 99), 100);
    expect(association.test).to.equal('mantel-haenszel');
    expect(association.pValue).to.be.closeTo(0.29693428607489414, 1e-9);
    expect(association.lift).to.be.closeTo(20 / 17.5, 1e-12);
    // One stratum: the strength is φ up to √((N − 1) / N).
    const phi = (20 * 35 - 15 * 30) / Math.sqrt(35 * 65 * 50 * 50);
    expect(association.strength).to.be.closeTo(phi * Math.sqrt(99 / 100), 1e-12);
  });

  it('should use the exact Poisson test when fewer than five events are expected', () => {
    expect(mantelHaenszel(1, 4.2, 3, 1000)).to.deep.include({ test: 'poisson-exact' });
    expect(mantelHaenszel(1, 4.2, 3, 1000).pValue).to.be.closeTo(0.15595399893296813, 1e-9);
    expect(mantelHaenszel(9, 4.2, 3, 1000).pValue).to.be.closeTo(0.05586438191604848, 1e-9);
  });

  it('should match Benjamini–Hochberg adjusted p-values and keep NaN out of the count', () => {
    const adjusted = adjustBenjaminiHochberg([0.01, 0.04, 0.03, 0.005, 0.2, 0.5, 0.04]);
    const expected = [0.035, 0.056, 0.056, 0.035, 0.23333333333333336, 0.5, 0.056];
    expected.forEach((value, i) => expect(adjusted[i]).to.be.closeTo(value, 1e-12));
    const withGap = adjustBenjaminiHochberg([0.01, NaN, 0.04]);
    expect(withGap[0]).to.be.closeTo(0.02, 1e-12);
    expect(withGap[1]).to.be.NaN;
    expect(withGap[2]).to.be.closeTo(0.04, 1e-12);
  });

  it('should match the Mann–Whitney AUC when scores tie, and be NaN without both classes', () => {
    const scores = [0.1, 0.4, 0.35, 0.8, 0.8, 0.2, 0.9, 0.5];
    const outcomes = [0, 0, 1, 1, 0, 0, 1, 1];
    expect(areaUnderRoc(scores, outcomes)).to.be.closeTo(0.78125, 1e-12);
    expect(areaUnderRoc([0.2, 0.4], [1, 1])).to.be.NaN;
  });

  it('should score forecasts with the Brier score and the log loss', () => {
    // Hand computation: ((0.8 − 1)² + (0.3 − 0)² + (0.5 − 1)²) / 3, and −(ln 0.8 + ln 0.7 + ln 0.5) / 3.
    expect(brierScore([0.8, 0.3, 0.5], [1, 0, 1])).to.be.closeTo((0.04 + 0.09 + 0.25) / 3, 1e-12);
    expect(logLoss([0.8, 0.3, 0.5], [1, 0, 1])).to.be.closeTo(-(Math.log(0.8) + Math.log(0.7) + Math.log(0.5)) / 3, 1e-12);
    expect(logLoss([1], [0])).to.be.closeTo(-Math.log(1 - (1 - 1e-15)), 1e-9);
  });
});
