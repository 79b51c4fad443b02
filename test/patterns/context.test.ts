import { expect } from 'chai';
import {
  REGIMES,
  UNKNOWN,
  contextSettingsSchema,
  realisedVolatility,
  trendRegimes,
  volatilityRegimes,
} from '../../src/patterns/context.js';
import { loadBars, nyTime } from '../helpers/bars.js';
import { SPY_DAILY } from '../helpers/data.js';

const BULL = REGIMES.indexOf('bull');
const BEAR = REGIMES.indexOf('bear');
const NEUTRAL = REGIMES.indexOf('neutral');

/** The regime of session i straight from the definition, with slices. */
function trendOracle(closes: number[], i: number, window: number, slope: number): number {
  if (i < window - 1 + slope) return UNKNOWN;
  const sma = (end: number) => closes.slice(end - window + 1, end + 1).reduce((a, b) => a + b, 0) / window;
  if (closes[i] > sma(i) && sma(i) > sma(i - slope)) return BULL;
  if (closes[i] < sma(i) && sma(i) < sma(i - slope)) return BEAR;
  return NEUTRAL;
}

/** Sample standard deviation of a plain array. */
function sd(values: number[]): number {
  const centre = values.reduce((a, b) => a + b, 0) / values.length;
  return Math.sqrt(values.reduce((sum, v) => sum + (v - centre) ** 2, 0) / (values.length - 1));
}

describe('market context', () => {
  const spy = loadBars(SPY_DAILY, '1d', 'SPY');
  const closes = Array.from(spy.close);
  const dates = Array.from(spy.ts, (ts) => nyTime(ts).slice(0, 10));
  const at = (date: string) => dates.indexOf(date);

  it('should label trend regimes as the definition does when given a short series', () => {
    const settings = contextSettingsSchema.parse({ trendSessions: 3, slopeSessions: 2 });
    const series = [10, 11, 12, 13, 14, 13, 12, 11, 10, 9, 10, 12, 12, 12, 12];
    const regimes = trendRegimes(series, settings);
    series.forEach((_, i) => expect(regimes[i], `session ${i}`).to.equal(trendOracle(series, i, 3, 2)));
    // By hand: at 4 the close 14 is above the SMA 13, which rose from 11; at 9 the close 9 is
    // below the SMA 10, which fell from 12; at 14 the close equals its flat SMA.
    expect([regimes[3], regimes[4], regimes[9], regimes[14]]).to.deep.equal([UNKNOWN, BULL, BEAR, NEUTRAL]);
  });

  it('should match the definition on every SPY session and call 2008 bear and 2017 bull', () => {
    const regimes = trendRegimes(closes);
    for (let i = 0; i < closes.length; i += 7) expect(regimes[i], dates[i]).to.equal(trendOracle(closes, i, 200, 20));
    expect(regimes[at('2008-10-10')]).to.equal(BEAR);
    expect(regimes[at('2017-06-01')]).to.equal(BULL);
    expect(regimes[218]).to.equal(UNKNOWN);
    expect(regimes[219]).to.not.equal(UNKNOWN);
  });

  it('should measure realised volatility as the annualised sd of the last log returns', () => {
    const volatility = realisedVolatility(closes);
    const i = at('2008-10-10');
    const returns = closes
      .slice(i - 20, i + 1)
      .map((close, k, all) => (k === 0 ? NaN : Math.log(close / all[k - 1])))
      .slice(1);
    expect(volatility[i]).to.be.closeTo(sd(returns) * Math.sqrt(252), 1e-12);
    expect(volatility[19]).to.be.NaN;
  });

  it('should rank volatility into terciles of the trailing year as the definition does', () => {
    const regimes = volatilityRegimes(closes);
    const volatility = realisedVolatility(closes);
    for (let i = 271; i < closes.length; i += 11) {
      const year = Array.from(volatility.slice(i - 251, i + 1)).sort((a, b) => a - b);
      const share = year.filter((v) => v <= volatility[i]).length / 252;
      const expected = share <= 1 / 3 ? 0 : share > 2 / 3 ? 2 : 1;
      expect(regimes[i], dates[i]).to.equal(expected);
    }
    expect(regimes[270]).to.equal(UNKNOWN);
    expect(regimes[at('2008-10-10')]).to.equal(2);
    // Over two decades each tercile holds roughly a third of the sessions.
    const known = Array.from(regimes).filter((r) => r >= 0);
    for (const level of [0, 1, 2]) {
      expect(known.filter((r) => r === level).length / known.length).to.be.within(0.25, 0.42);
    }
  });
});
