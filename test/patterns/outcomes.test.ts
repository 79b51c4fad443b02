import { expect } from 'chai';
import { PENDING, measureOutcomes, outcomeSettingsSchema } from '../../src/patterns/outcomes.js';

/** Bars whose close is `closes`, high = close + 1, low = close − 1, ts = index × 1000. */
function bars(closes: number[]) {
  return {
    ts: closes.map((_, i) => i * 1000),
    high: closes.map((close) => close + 1),
    low: closes.map((close) => close - 1),
    close: closes,
    length: closes.length,
  };
}

describe('pattern outcomes', () => {
  const settings = outcomeSettingsSchema.parse({ horizons: [1, 2, 4], excursionBars: 3, successHorizon: 2 });
  const closes = [100, 102, 99, 105, 110, 108, 107];

  it('should measure forward returns, excursions and success when the bars are there', () => {
    const out = measureOutcomes(bars(closes), [0], [1], settings);
    expect(out.forward[0][0]).to.be.closeTo(102 / 100 - 1, 1e-12);
    expect(out.forward[1][0]).to.be.closeTo(99 / 100 - 1, 1e-12);
    expect(out.forward[2][0]).to.be.closeTo(110 / 100 - 1, 1e-12);
    // Window bars 1–3: highest high 106, lowest low 98.
    expect(out.favourable[0]).to.be.closeTo(0.06, 1e-12);
    expect(out.adverse[0]).to.be.closeTo(-0.02, 1e-12);
    expect(out.success[0]).to.equal(0); // 99 < 100 two bars later
    expect(out.knownTs[0]).to.equal(2000);
    expect(out.complete[0]).to.equal(1);
  });

  it('should measure a bearish detection in its own direction', () => {
    const out = measureOutcomes(bars(closes), [1], [-1], settings);
    // From 102: bars 2–4 highest high 111, lowest low 98; two bars later 105 > 102.
    expect(out.favourable[0]).to.be.closeTo(1 - 98 / 102, 1e-12);
    expect(out.adverse[0]).to.be.closeTo(1 - 111 / 102, 1e-12);
    expect(out.success[0]).to.equal(0);
    const falling = measureOutcomes(bars(closes), [4], [-1], settings);
    expect(falling.success[0]).to.equal(1); // 107 < 110
  });

  it('should clamp excursions at zero when the price never moves against or for the pattern', () => {
    const rising = measureOutcomes(bars([100, 110, 120, 130, 140]), [0], [1], settings);
    expect(rising.adverse[0]).to.equal(0);
    const risingShort = measureOutcomes(bars([100, 110, 120, 130, 140]), [0], [-1], settings);
    expect(risingShort.favourable[0]).to.equal(0);
  });

  it('should keep what is not known yet pending when the bars run out', () => {
    const out = measureOutcomes(bars(closes), [4, 5, 6], [1, 1, 1], settings);
    expect(out.forward[0][0]).to.be.closeTo(108 / 110 - 1, 1e-12);
    expect(out.forward[2][0]).to.be.NaN;
    expect(out.favourable[0]).to.be.NaN;
    expect(out.success[0]).to.equal(0);
    expect(out.complete[0]).to.equal(0);
    expect(out.success[1]).to.equal(PENDING);
    expect(out.knownTs[1]).to.be.NaN;
    expect(out.forward[0][1]).to.be.closeTo(107 / 108 - 1, 1e-12);
    expect(out.forward[0][2]).to.be.NaN;
  });

  it('should need the move beyond the threshold when one is set', () => {
    const strict = outcomeSettingsSchema.parse({
      horizons: [1, 2, 4],
      excursionBars: 3,
      successHorizon: 2,
      successThreshold: 0.05,
    });
    const out = measureOutcomes(bars(closes), [2, 1], [1, 1], strict);
    expect(out.success[0]).to.equal(1); // 110 / 99 − 1 = 11 % > 5 %
    expect(out.success[1]).to.equal(0); // 105 / 102 − 1 = 2.9 %
  });

  it('should refuse a success horizon that is not one of the horizons', () => {
    const parsed = outcomeSettingsSchema.safeParse({ horizons: [1, 5], successHorizon: 3 });
    expect(parsed.success).to.equal(false);
    expect(parsed.error?.issues[0].path).to.deep.equal(['successHorizon']);
  });
});
