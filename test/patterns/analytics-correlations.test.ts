import { expect } from 'chai';
import { analysisSettingsSchema, type AnalyticsInput } from '../../src/patterns/analytics-dataset.js';
import { patternCorrelations } from '../../src/patterns/analytics-correlations.js';
import { mantelHaenszel } from '../../src/patterns/analytics-statistics.js';
import { analyticsInput, plantedHistory } from './analytics-input.js';

/**
 * The stratified comparison and lags of (a, b) by enumerating every symbol-session, each
 * stratum's 2 × 2 table built and summed with the textbook Mantel–Haenszel formulas: the oracle.
 */
function bruteForce(input: AnalyticsInput, a: number, b: number, window: number, strataSessions: number) {
  const d = input.detections;
  const has = new Set<string>();
  for (let i = 0; i < d.count; i++) has.add(`${d.symbol[i]}:${d.session[i]}:${d.pattern[i]}`);
  const at = (s: number, t: number, p: number) => has.has(`${s}:${t}:${p}`);
  const strata = new Map<string, { n: number; exposed: number; covered: number; both: number }>();
  const lags = new Array(window).fill(0);
  for (let s = 0; s < input.symbols.length; s++) {
    for (let t = input.symbolSpan.first[s]; t <= input.symbolSpan.last[s] - window; t++) {
      const key = `${s}:${Math.floor(t / strataSessions)}`;
      const stratum = strata.get(key) ?? { n: 0, exposed: 0, covered: 0, both: 0 };
      strata.set(key, stratum);
      let followed = false;
      for (let k = 1; k <= window; k++) {
        if (!at(s, t + k, b)) continue;
        followed = true;
        if (at(s, t, a)) lags[k - 1]++;
      }
      stratum.n++;
      if (at(s, t, a)) stratum.exposed++;
      if (followed) stratum.covered++;
      if (followed && at(s, t, a)) stratum.both++;
    }
  }
  let observed = 0;
  let expected = 0;
  let variance = 0;
  let trials = 0;
  let exposed = 0;
  for (const { n, exposed: x, covered: m, both } of strata.values()) {
    trials += n;
    if (x === 0) continue;
    exposed += x;
    observed += both;
    expected += (x * m) / n;
    if (n > 1) variance += (x * (n - x) * m * (n - m)) / (n * n * (n - 1));
  }
  return { observed, exposed, association: mantelHaenszel(observed, expected, variance, trials), lags };
}

describe('pattern correlations', () => {
  const patterns = ['alpha', 'beta', 'gamma'];

  it('should count tables and lags as a session-by-session enumeration does', () => {
    const input = analyticsInput(
      plantedHistory({
        seed: 3,
        symbols: 4,
        sessions: 80,
        patterns,
        rate: 0.12,
        success: () => 0.5,
        regime: (t) => (t < 40 ? 0 : 1),
        follow: { leader: 0, follower: 1, lag: 2, chance: 0.6 },
      }),
    );
    // Symbol 3 starts late: its sessions before 10 are outside the data.
    input.symbolSpan.first[3] = 10;
    const keep = Array.from({ length: input.detections.count }, (_, i) => i).filter(
      (i) => input.detections.symbol[i] !== 3 || input.detections.session[i] >= 10,
    );
    for (const column of Object.keys(input.detections) as (keyof typeof input.detections)[]) {
      const values = input.detections[column];
      if (typeof values !== 'number')
        (input.detections as unknown as Record<string, unknown>)[column] =
          values.constructor === Float64Array
            ? Float64Array.from(keep, (i) => values[i])
            : (values.constructor as Int32ArrayConstructor).from(keep, (i) => values[i]);
    }
    input.detections.count = keep.length;
    const window = 5;
    const settings = analysisSettingsSchema.parse({ followWindow: window, strataSessions: 20, alpha: 0.999999 });
    const results = patternCorrelations(input, settings);
    let compared = 0;
    for (const primary of results) {
      const a = patterns.indexOf(primary.pattern);
      for (const [k, partner] of primary.correlatedPatterns.entries()) {
        const b = patterns.indexOf(partner.pattern);
        const oracle = bruteForce(input, a, b, window, 20);
        expect(partner.followed, `${primary.pattern} → ${partner.pattern}`).to.equal(oracle.observed);
        expect(primary.detections).to.equal(oracle.exposed);
        expect(partner.expectedFollowed).to.be.closeTo(oracle.association.expected, 1e-9);
        expect(partner.rawPValue).to.be.closeTo(oracle.association.pValue, 1e-12);
        expect(partner.strength).to.be.closeTo(oracle.association.strength, 1e-12);
        expect(primary.timeLagAnalysis[k].lags.map((lag) => lag.count)).to.deep.equal(oracle.lags);
        compared++;
      }
    }
    expect(compared).to.equal(6);
  });

  it('should find the planted follower at its lag and nothing in a history without one', () => {
    const base = { seed: 11, symbols: 20, sessions: 300, patterns, rate: 0.02, success: () => 0.5, regime: () => 0 };
    const settings = analysisSettingsSchema.parse({});
    const planted = patternCorrelations(
      analyticsInput(plantedHistory({ ...base, follow: { leader: 0, follower: 2, lag: 3, chance: 0.5 } })),
      settings,
    );
    const alpha = planted.find((entry) => entry.pattern === 'alpha')!;
    expect(alpha.correlatedPatterns.map((entry) => entry.pattern)).to.deep.equal(['gamma']);
    const gamma = alpha.correlatedPatterns[0];
    expect(gamma.lagSessions).to.equal(3);
    expect(gamma.lift).to.be.greaterThan(1.5);
    expect(gamma.pValue).to.be.below(1e-6);
    expect(gamma.followed).to.be.greaterThan(gamma.expectedFollowed * 1.5);
    expect(alpha.timeLagAnalysis[0].peakLagSessions).to.equal(3);
    expect(alpha.statisticalSignificance.testedPairs).to.equal(6);

    const none = patternCorrelations(analyticsInput(plantedHistory(base)), settings);
    expect(none.flatMap((entry) => entry.correlatedPatterns)).to.deep.equal([]);
    expect(none[0].statisticalSignificance.significantPairs).to.equal(0);
  });

  it('should show the association changing with the regime when the follower is planted only in bull sessions', () => {
    const history = plantedHistory({
      seed: 5,
      symbols: 40,
      sessions: 400,
      patterns,
      rate: 0.02,
      success: () => 0.5,
      regime: (t) => (Math.floor(t / 50) % 2 === 0 ? 0 : 1),
      follow: { leader: 0, follower: 1, lag: 2, chance: 0.6, regimes: [0] },
    });
    const results = patternCorrelations(analyticsInput(history), analysisSettingsSchema.parse({}));
    const sensitivity = results.find((entry) => entry.pattern === 'alpha')!.marketContextSensitivity[0];
    expect(sensitivity.pattern).to.equal('beta');
    expect(sensitivity.liftByRegime.bull.lift).to.be.greaterThan(2);
    expect(sensitivity.liftByRegime.bear.lift).to.be.within(0.5, 1.5);
    expect(sensitivity.liftByRegime.neutral.lift).to.equal(null);
    expect(sensitivity.sensitivity).to.be.greaterThan(1);
  });
});
