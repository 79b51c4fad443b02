import { expect } from 'chai';
import { allocateBars } from '../../src/bars/columns.js';
import { runScenarioBatch } from '../../src/scenarios/batch.js';
import { SCENARIOS } from '../../src/scenarios/catalog.js';
import type { ModelParams } from '../../src/scenarios/model.js';
import { sessionGrid } from '../../src/scenarios/run.js';
import { thresholdBreaches } from '../../src/scenarios/definitions/high-low-events.js';
import { trendRuns } from '../../src/scenarios/definitions/trend-changes.js';
import { autocorrelation, correlation, excessKurtosis, maxDrawdown } from '../../src/shared/statistics.js';
import { allowedFailures, invariantChecks, summarizeReports, type SymbolReport } from '../../src/scenarios/validation.js';

describe('scenario validation', () => {
  it('should compute the statistics the report relies on from hand-checkable samples', () => {
    // 1, 2, 3, 4: mean 2.5, deviations −1.5 −0.5 0.5 1.5; lag-1 products 0.75 −0.25 0.75 over 5.
    expect(autocorrelation([1, 2, 3, 4], 1)).to.be.closeTo(0.25, 1e-12);
    expect(autocorrelation([1, -1, 1, -1, 1, -1], 1)).to.be.closeTo(-5 / 6, 1e-12);
    // Two-point ±1: m4 / m2² = 1 → excess −2.
    expect(excessKurtosis([1, -1, 1, -1])).to.be.closeTo(-2, 1e-12);
    expect(correlation([1, 2, 3], [2, 4, 6])).to.be.closeTo(1, 1e-12);
    expect(maxDrawdown([100, 120, 90, 130, 65, 80])).to.deep.equal({ drawdown: -0.5, peakIndex: 3, troughIndex: 4 });
  });

  it('should count four trend changes in a noiseless flat → up → down → up → flat path', () => {
    const drifts = [0, 0.006, -0.006, 0.006, 0];
    const closes = [100];
    for (const drift of drifts)
      for (let i = 0; i < 40; i++) closes.push(closes[closes.length - 1] * Math.exp(drift + (i % 2 ? 0.004 : -0.004)));
    const runs = trendRuns(closes, 0.002, 20);
    expect(runs.map((run) => run.state)).to.deep.equal(['flat', 'up', 'down', 'up', 'flat']);
    // Each change is found within a session of where the drift changed.
    [0, 40, 80, 120, 160].forEach((start, i) => expect(runs[i].start).to.be.closeTo(start, 1));
  });

  it('should count breaks of the rolling high and low against the sessions before each bar', () => {
    const high = [10, 11, 12, 11, 13, 9, 9];
    const low = [9, 10, 11, 8, 12, 7, 6];
    // Window 2: highs break at 2 (12 > 11), 4 (13 > 12); lows at 3 (8 < 10), 5 (7 < 8), 6 (6 < 7).
    expect(thresholdBreaches(high, low, 2)).to.deep.equal({ highs: 2, lows: 3 });
  });

  it('should flag every broken invariant with the bar that broke it', () => {
    const bars = allocateBars(3);
    bars.ts.set([Date.parse('2020-01-02T05:00:00Z'), Date.parse('2020-01-03T05:00:00Z'), Date.parse('2020-01-03T06:00:00Z')]);
    bars.open.set([10, 10, 10]);
    bars.high.set([11, 9, 11]);
    bars.low.set([9, 9, 0]);
    bars.close.set([10, 10, 10]);
    bars.volume.set([100, 1.5, 100]);
    const checks = Object.fromEntries(invariantChecks([{ timeframe: '1d', bars }]).map((check) => [check.name, check]));
    expect(checks.ohlcConsistent).to.include({ passed: false, measured: 1 });
    expect(checks.pricesPositive).to.include({ passed: false, measured: 1 });
    expect(checks.volumeWholeNonNegative).to.include({ passed: false, measured: 1 });
    expect(checks.tsOnGrid).to.include({ passed: false, measured: 1 });
    expect(checks.tsAscending).to.include({ passed: true, measured: 0 });
  });

  it('should fail the report, naming the check and symbol, when overridden parameters break a promise', () => {
    const { grid } = sessionGrid('2020-01-01', 252);
    // A "crash" no more volatile than the calm months cannot show a 2.5× volatility jump.
    const params = SCENARIOS.crash_2020.params.parse({ crashVolatility: 0.15 }) as ModelParams;
    const output = runScenarioBatch(
      { scenario: 'crash_2020', params, seed: 7, timeframe: '1d', targets: [] },
      ['SYN0001', 'SYN0002'],
      grid,
    );
    const summary = summarizeReports(output.symbols.map((s) => s.report));
    expect(summary.passed).to.equal(false);
    expect(summary.failedChecks).to.have.length.greaterThan(0);
    expect(summary.failedChecks[0]).to.match(
      /^targets\.crashVolatilityRatio: passed by 0 of 2 symbols \(needs every symbol\); failed: SYN0001, SYN0002$/,
    );
    const check = output.symbols[0].report.targets.find((c) => c.name === 'crashVolatilityRatio')!;
    expect(check.passed).to.equal(false);
    expect(check.measured).to.be.lessThan(2.5);
    // The drawdown is still landed: only the broken promise fails.
    expect(output.symbols[0].report.targets.find((c) => c.name === 'maxDrawdown')!.passed).to.equal(true);
  });

  it('should require targets of every symbol but fail a statistical check only beyond chance', () => {
    const report = (symbol: string, target: boolean, fact: boolean): SymbolReport => ({
      symbol,
      passed: target && fact,
      targets: [{ name: 'goal', passed: target, measured: 1, expected: '≥ 1' }],
      stylizedFacts: [{ name: 'fact', passed: fact, measured: 1, expected: '> 0' }],
      indicators: [],
      invariants: [],
      figures: {
        sessions: 1,
        firstOpen: 1,
        lastClose: 1,
        totalReturn: 0,
        maxDrawdown: 0,
        annualisedVolatility: 0,
        meanVolume: 0,
      },
    });
    // At 5 % per symbol, more than 3 failures in 10 is under 1 % likely; more than 37 in 500 too.
    expect([1, 3, 10, 500].map((n) => allowedFailures(n))).to.deep.equal([1, 1, 3, 37]);
    const threeOfTen = Array.from({ length: 10 }, (_, i) => report(`S${i}`, true, i > 2));
    expect(summarizeReports(threeOfTen).passed).to.equal(true);
    const fourOfTen = Array.from({ length: 10 }, (_, i) => report(`S${i}`, true, i > 3));
    expect(summarizeReports(fourOfTen).failedChecks).to.deep.equal([
      'stylizedFacts.fact: passed by 6 of 10 symbols (needs at most 3 failing symbols, the chance level); failed: S0, S1, S2, S3',
    ]);
    const oneTargetMissed = Array.from({ length: 10 }, (_, i) => report(`S${i}`, i !== 9, true));
    expect(summarizeReports(oneTargetMissed).failedChecks).to.deep.equal([
      'targets.goal: passed by 9 of 10 symbols (needs every symbol); failed: S9',
    ]);
  });
});
