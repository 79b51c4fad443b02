import { expect } from 'chai';
import { startWebServer, type WebServer } from '../../src/api/server.js';
import { REGIMES, trendRegimes } from '../../src/patterns/context.js';
import { NYSE } from '../../src/shared/calendar.js';
import { createLogger } from '../../src/shared/logger.js';
import { localMidnight } from '../../src/shared/zone.js';
import { TEST_TOKEN } from '../helpers/config.js';
import { TestSystem } from '../helpers/system.js';
import { randomStream } from './analytics-input.js';

const ZONE = 'America/New_York';
const SESSIONS = NYSE.sessionsBetween('2015-01-02', '2018-06-29').slice(0, 800);
const SYMBOLS = Array.from({ length: 15 }, (_, k) => `SYM${k}`);
const BULL = REGIMES.indexOf('bull');
/** The planted pattern, the one planted 3 sessions after it, and background noise. */
const PLANTED = 'cdlengulfing';
const FOLLOWER = 'gap_up';
const NOISE = 'cdldoji';

interface Bar {
  symbol: string;
  timeframe: string;
  ts: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/** A bar around `close` from `previous`, with a range of half a percent beyond both. */
function bar(symbol: string, session: number, previous: number, close: number): Bar {
  return {
    symbol,
    timeframe: '1d',
    ts: new Date(localMidnight(SESSIONS[session].date, ZONE)).toISOString(),
    open: previous,
    high: Math.max(previous, close) * 1.005,
    low: Math.min(previous, close) * 0.995,
    close,
    volume: 1_000_000,
  };
}

/**
 * Five years of SPY (bull, then a bear leg, then bull again) and 15 random-walk symbols with
 * detections of three patterns. With `effect`, the planted pattern is followed by a rise over
 * the next five sessions only where SPY is in a bull regime, and the follower pattern is
 * detected three sessions after it.
 */
async function seed(system: TestSystem, effect: boolean, seedValue: number): Promise<void> {
  const random = randomStream(seedValue, effect ? 'effect' : 'none');
  const spy: number[] = [];
  SESSIONS.forEach((_, t) => {
    const drift = t < 450 ? 0.0012 : t < 650 ? -0.002 : 0.0015;
    spy.push((spy[t - 1] ?? 200) * (1 + drift + (random() - 0.5) * 0.004));
  });
  const regimes = trendRegimes(spy);
  const bars: Bar[] = spy.map((close, t) => bar('SPY', t, spy[t - 1] ?? close, close));
  const detections: Record<string, unknown>[] = [];
  const detect = (symbol: string, session: number, pattern: string, direction = 'bullish') =>
    detections.push({
      symbol,
      timeframe: '1d',
      ts: new Date(localMidnight(SESSIONS[session].date, ZONE)).toISOString(),
      pattern,
      detector_version: '1.0.0',
      direction,
      strength: 100,
    });
  for (const symbol of SYMBOLS) {
    const drift = new Float64Array(SESSIONS.length);
    for (let t = 230; t < SESSIONS.length; t++) {
      if (random() < 0.13) {
        detect(symbol, t, PLANTED);
        if (effect && regimes[t] === BULL) for (let k = 1; k <= 5 && t + k < SESSIONS.length; k++) drift[t + k] += 0.01;
        if (effect && t + 3 < SESSIONS.length && random() < 0.7) detect(symbol, t + 3, FOLLOWER);
      }
      // Without the effect the follower is as frequent, but independent of the planted pattern.
      if (!effect && random() < 0.09) detect(symbol, t, FOLLOWER);
    }
    for (let t = 230; t < SESSIONS.length; t++)
      if (random() < 0.04) detect(symbol, t, NOISE, random() < 0.5 ? 'bullish' : 'bearish');
    let close = 50;
    SESSIONS.forEach((_, t) => {
      const previous = close;
      close = previous * (1 + drift[t] + (random() - 0.5) * 0.03);
      bars.push(bar(symbol, t, previous, close));
    });
  }
  const unique = new Map(detections.map((row) => [`${row.symbol}|${row.ts}|${row.pattern}`, row]));
  await system.db.batchInsert('bars', bars, 2_000);
  await system.db.batchInsert('pattern_detections', [...unique.values()], 2_000);
  await system
    .db('symbols')
    .insert(SYMBOLS.map((symbol, k) => ({ symbol, kind: 'stock', sector: k % 2 ? 'Energy' : 'Utilities' })));
}

describe('pattern analytics end to end', function () {
  this.timeout(240_000);
  let planted: TestSystem;
  let plain: TestSystem;
  let web: WebServer;
  let plainWeb: WebServer;

  async function get(server: WebServer, path: string, query: Record<string, string> = {}) {
    const response = await fetch(`${server.url}/api/analytics/${path}?${new URLSearchParams(query)}`, {
      headers: { authorization: `Bearer ${TEST_TOKEN}` },
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  }

  async function post(server: WebServer, path: string, body: unknown) {
    const response = await fetch(`${server.url}/api/analytics/${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  }

  before(async () => {
    planted = await TestSystem.create();
    plain = await TestSystem.create();
    await Promise.all([seed(planted, true, 1), seed(plain, false, 2)]);
    await planted.startWorker();
    await plain.startWorker();
    web = await startWebServer(planted.config, createLogger('test-web', 'silent'), '127.0.0.1');
    plainWeb = await startWebServer(plain.config, createLogger('test-web', 'silent'), '127.0.0.1');
    await Promise.all([planted.run('analyze-patterns', {}, 180_000), plain.run('analyze-patterns', {}, 180_000)]);
  });

  after(async () => {
    await web?.close();
    await plainWeb?.close();
    await planted?.close();
    await plain?.close();
  });

  it('should label outcomes and context and announce the analysis when the job runs', async () => {
    const outcomes = await planted.db('pattern_outcomes').count<{ count: string }[]>('* as count');
    const detections = await planted.db('pattern_detections').count<{ count: string }[]>('* as count');
    expect(Number(outcomes[0].count)).to.equal(Number(detections[0].count));
    const pending = await planted.db('pattern_outcomes').whereNull('success').count<{ count: string }[]>('* as count');
    expect(Number(pending[0].count)).to.be.greaterThan(0);
    const bear = await planted
      .db('market_context')
      .where({ benchmark: 'SPY', regime: 'bear' })
      .count<{ count: string }[]>('* as count');
    expect(Number(bear[0].count)).to.be.greaterThan(50);
    const events = (await planted.redis.xrange(planted.config.eventStream, '-', '+')).filter(([, fields]) =>
      fields.includes(planted.channels.analyticsUpdated),
    );
    expect(events).to.have.length(1);
  });

  it('should recover the bull-only rise in the regime impact, and find none without it', async () => {
    const { status, body } = await get(web, 'market/regime/impact', { pattern: PLANTED });
    expect(status).to.equal(200);
    const [impact] = body.results;
    expect(impact.bullMarketSuccessRate.confidenceInterval[0]).to.be.above(0.85);
    expect(impact.bearMarketSuccessRate.confidenceInterval[1]).to.be.below(0.75);
    expect(impact.regimeDependence.adjustedPValue).to.be.below(1e-6);
    expect(impact.optimalMarketConditions.regime).to.equal('bull');
    const noise = (await get(web, 'market/regime/impact', { pattern: NOISE })).body.results[0];
    expect(noise.regimeDependence.adjustedPValue).to.be.above(0.05);

    const none = (await get(plainWeb, 'market/regime/impact')).body.results;
    for (const entry of none) expect(entry.regimeDependence.adjustedPValue, entry.pattern).to.be.above(0.05);
  });

  it('should find the follower at its three-session lag, and no correlation without it', async () => {
    const { body } = await get(web, 'patterns/correlations', { pattern: PLANTED });
    const [primary] = body.results;
    const follower = primary.correlatedPatterns.find((entry: { pattern: string }) => entry.pattern === FOLLOWER);
    expect(follower.lagSessions).to.equal(3);
    expect(follower.pValue).to.be.below(1e-6);
    expect(follower.lift).to.be.above(1.3);
    const none = (await get(plainWeb, 'patterns/correlations')).body.results;
    expect(none.flatMap((entry: { correlatedPatterns: unknown[] }) => entry.correlatedPatterns)).to.deep.equal([]);
  });

  it('should predict the planted pattern’s success out of sample, and nothing without the effect', async () => {
    const { body } = await get(web, 'patterns/success/predictions');
    expect(body.historicalAccuracy.auc).to.be.above(0.65);
    expect(body.historicalAccuracy.brierSkillScore).to.be.above(0.05);
    const bull = body.predictions.filter(
      (p: { pattern: string; marketContextInfluence: { regime: string } }) =>
        p.pattern === PLANTED && p.marketContextInfluence.regime === 'bull',
    );
    expect(bull.length).to.be.greaterThan(0);
    for (const prediction of bull) expect(prediction.predictedSuccessProbability).to.be.above(0.75);
    const none = (await get(plainWeb, 'patterns/success/predictions')).body;
    expect(none.historicalAccuracy.auc).to.be.within(0.4, 0.6);
  });

  it('should serve seasonality, portfolio impact and custom queries from the same data', async () => {
    const seasonal = await get(web, 'seasonal/patterns', { pattern: PLANTED });
    expect(seasonal.body.results[0].byWeekday.seasons.map((s: { season: number }) => s.season)).to.deep.equal([1, 2, 3, 4, 5]);
    expect(seasonal.body.results[0].byHour).to.equal(null);
    const portfolio = await get(web, 'portfolio/impact', {
      symbols: 'SYM0,SYM1,NOPE',
      weights: '2,1,1',
      from: SESSIONS[300].date,
      to: SESSIONS[440].date,
      pattern: PLANTED,
    });
    expect(portfolio.status).to.equal(200);
    expect(portfolio.body.missing).to.deep.equal(['NOPE']);
    expect(portfolio.body.afterBullishSignals.excessReturn).to.be.above(0.02);
    const custom = await post(web, 'custom/queries', {
      filter: { patterns: [PLANTED] },
      groupBy: ['regime'],
      metric: 'successRate',
    });
    expect(custom.status).to.equal(200);
    const bull = custom.body.groups.find((group: { key: { regime: string } }) => group.key.regime === 'bull');
    expect(bull.value).to.be.above(0.9);
  });

  it('should answer bad input with a clear error or an explained empty result, never a 500', async () => {
    const unknown = await get(web, 'market/regime/impact', { pattern: 'cdlnothing' });
    expect(unknown.status).to.equal(400);
    expect(unknown.body.error).to.match(/cdlnothing/);
    expect(unknown.body.error).to.match(/known patterns: .*cdlengulfing/);
    const unseen = await get(web, 'market/regime/impact', { pattern: 'cdlhammer' });
    expect(unseen.status).to.equal(400);
    expect(unseen.body.error).to.match(/cdlhammer: no detection of it is stored/);
    const unknownQuery = await post(web, 'custom/queries', { filter: { patterns: ['Engulfing'] }, metric: 'count' });
    expect(unknownQuery.status).to.equal(400);
    expect(unknownQuery.body.issues[0].path).to.equal('filter.patterns.0');
    expect(unknownQuery.body.issues[0].message).to.match(/unknown pattern "Engulfing"/);
    const noAnalysis = await get(web, 'patterns/correlations', { universe: 'sector_nothing' });
    expect(noAnalysis.status).to.equal(404);
    expect(noAnalysis.body.error).to.match(/analyze-patterns/);
    const empty = await planted.run('analyze-patterns', { universe: 'sector_nothing' });
    expect(empty.result.analysisId).to.equal(null);
    expect(empty.result.note).to.match(/no members/);
    const short = await get(web, 'portfolio/impact', { symbols: 'SYM0', from: '2010-01-04', to: '2010-01-05' });
    expect(short.status).to.equal(404);
    expect(short.body.error).to.match(/SYM0/);
    const sql = await post(web, 'custom/queries', { filter: {}, groupBy: ['pattern; DROP TABLE bars'], metric: 'count' });
    expect(sql.status).to.equal(400);
    expect(sql.body.issues[0].path).to.match(/groupBy/);
  });

  it('should serve from the cache until a new analysis lands', async () => {
    const first = await get(web, 'market/regime/impact');
    const keys = await planted.redis.keys(`${planted.config.prefix}:analytics-cache:*`);
    expect(keys.length).to.be.greaterThan(0);
    await planted.db('pattern_detections').where({ pattern: NOISE }).delete();
    const cached = await get(web, 'market/regime/impact');
    expect(cached.body).to.deep.equal(first.body);
    await planted.run('analyze-patterns', {});
    const fresh = await get(web, 'market/regime/impact');
    expect(fresh.body.results.map((entry: { pattern: string }) => entry.pattern)).to.not.include(NOISE);
  });
});
