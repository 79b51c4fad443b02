import { expect } from 'chai';
import { sliceBars, type BarColumns } from '../../src/bars/columns.js';
import { type EventEnvelope, type PatternsDetected } from '../../src/notify/channels.js';
import { DETECTORS, PATTERN_KEYS } from '../../src/patterns/catalog.js';
import type { DetectPatternsResult } from '../../src/patterns/detect-patterns.contract.js';
import { detectPatterns } from '../../src/patterns/detect.js';
import { PatternDetectionsRepository } from '../../src/patterns/detections.repository.js';
import { ValidationError } from '../../src/shared/errors.js';
import { closeRedis, createRedis, type RedisClient } from '../../src/shared/redis.js';
import { HISTORY_BARS } from '../../jobs/patterns/detect-patterns.job.js';
import { loadBars } from '../helpers/bars.js';
import { SPY_DAILY, dataFile } from '../helpers/data.js';
import { TestSystem } from '../helpers/system.js';
import { eventually } from '../helpers/wait.js';

const FROM = '2019-01-02';
const TO = '2019-12-31';

describe('detect-patterns job', function () {
  this.timeout(180_000);
  let system: TestSystem;
  let detections: PatternDetectionsRepository;
  let subscriber: RedisClient;
  const spy = loadBars(SPY_DAILY, '1d', 'SPY');

  /** The kernel's detections on SPY in 2019 given the job's history: the oracle. */
  function expected(patterns = PATTERN_KEYS): Array<{ ts: number; pattern: string; value: number }> {
    const first = spy.ts.findIndex((ts) => ts >= Date.parse(`${FROM}T05:00:00Z`));
    const end = spy.ts.findIndex((ts) => ts >= Date.parse('2020-01-01T05:00:00Z'));
    const bars: BarColumns = sliceBars(spy, first - HISTORY_BARS, end);
    const found = detectPatterns(bars, patterns, HISTORY_BARS);
    return [...found.bar].map((bar, k) => ({ ts: bars.ts[bar], pattern: patterns[found.pattern[k]], value: found.value[k] }));
  }

  const key = (row: { ts: number; pattern: string }) => `${row.ts} ${row.pattern}`;

  before(async () => {
    system = await TestSystem.create();
    await system.startWorker();
    detections = new PatternDetectionsRepository(system.db, system.config.dbSchema);
    subscriber = createRedis(system.config, 'subscriber');
    await subscriber.subscribe(system.channels.patternsDetected);
    await system.run('import-bars', { file: dataFile(SPY_DAILY), symbol: 'SPY', timeframe: '1d' });
  });

  after(async () => {
    await closeRedis(subscriber);
    await system.close();
  });

  it('should store exactly what the detectors find on every bar of the range and announce the counts', async () => {
    const messages: string[] = [];
    subscriber.on('message', (_channel: string, message: string) => messages.push(message));
    const { id, result } = await system.run('detect-patterns', { symbols: ['SPY'], from: FROM, to: TO });
    const run = result as DetectPatternsResult;
    const oracle = expected();
    const rows = await detections.list({ timeframe: '1d', symbols: ['SPY'] });
    expect(rows.map((row) => key({ ts: row.ts.getTime(), pattern: row.pattern })).sort()).to.deep.equal(oracle.map(key).sort());
    for (const row of rows) {
      const match = oracle.find((one) => one.ts === row.ts.getTime() && one.pattern === row.pattern)!;
      expect(row.direction).to.equal(match.value > 0 ? 'bullish' : 'bearish');
      expect(row.strength).to.equal(Math.abs(match.value));
      expect(row.detector_version).to.equal(DETECTORS[row.pattern as keyof typeof DETECTORS].version);
    }
    expect(run.totals).to.include({ symbols: 1, bars: 252, detections: oracle.length, written: oracle.length, removed: 0 });
    expect(run.symbols[0]).to.include({ symbol: 'SPY', history: HISTORY_BARS });
    const event = await eventually(
      async () =>
        messages
          .map((message) => JSON.parse(message) as EventEnvelope<PatternsDetected>)
          .find((one) => one.correlation_id === id),
      'the patterns.detected event of the run',
    );
    expect(event.correlation_id).to.equal(id);
    expect(event.data.detections).to.equal(oracle.length);
    expect(event.data.counts.cdlengulfing).to.equal(oracle.filter((one) => one.pattern === 'cdlengulfing').length);
  });

  it('should leave the same rows when the same detectors run again, and keep another version beside them', async () => {
    await system.db
      .withSchema(system.config.dbSchema)
      .table('pattern_detections')
      .insert({
        symbol: 'SPY',
        timeframe: '1d',
        variant: '',
        ts: new Date(spy.ts[5_300]),
        pattern: 'cdldoji',
        detector_version: '0.9.0',
        direction: 'bullish',
        strength: 100,
      });
    const before = await detections.list({ timeframe: '1d', symbols: ['SPY'] });
    const { result } = await system.run('detect-patterns', { symbols: ['SPY'], from: FROM, to: TO });
    const after = await detections.list({ timeframe: '1d', symbols: ['SPY'] });
    expect(after.map((row) => [row.ts.getTime(), row.pattern, row.detector_version])).to.deep.equal(
      before.map((row) => [row.ts.getTime(), row.pattern, row.detector_version]),
    );
    expect((result as DetectPatternsResult).totals.removed).to.equal(0);
    expect(after.filter((row) => row.detector_version === '0.9.0')).to.have.length(1);
  });

  it('should only touch the patterns asked for when given a list', async () => {
    const { result } = await system.run('detect-patterns', {
      symbols: ['SPY'],
      from: FROM,
      to: TO,
      patterns: ['gap_up', 'cdlhammer'],
    });
    const run = result as DetectPatternsResult;
    expect(run.patterns).to.deep.equal(['gap_up', 'cdlhammer']);
    expect(run.totals.detections).to.equal(expected(['gap_up', 'cdlhammer']).length);
    expect(await detections.list({ timeframe: '1d', symbols: ['SPY'], patterns: ['cdldoji'] })).to.have.length.greaterThan(1);
  });

  it('should refuse an unknown pattern key naming it when enqueued', async () => {
    try {
      await system.producer.enqueue('detect-patterns', { symbols: ['SPY'], patterns: ['cdlengulfing', 'cdl_unicorn'] });
      expect.fail('enqueued');
    } catch (error) {
      expect(error).to.be.instanceOf(ValidationError);
      expect((error as ValidationError).issues[0]).to.include({ path: 'patterns.1' });
      expect((error as Error).message).to.contain('cdl_unicorn');
    }
  });

  it('should explain an empty result when a universe has no bars or a range lacks history', async () => {
    const none = (await system.run('detect-patterns', { symbols: ['NOPE'], from: FROM, to: TO })).result as DetectPatternsResult;
    expect(none.totals).to.include({ symbols: 1, bars: 0, detections: 0 });
    expect(none.symbols[0].note).to.match(/no 1d bars in the range/);
    expect(none.note).to.match(/no 1d bars in the range/);

    const early = (await system.run('detect-patterns', { symbols: ['SPY'], from: '1998-01-02', to: '1998-03-31' }))
      .result as DetectPatternsResult;
    expect(early.symbols[0].history).to.equal(0);
    expect(early.symbols[0].note)
      .to.match(/only 0 bars before the range/)
      .and.match(/high_52w/);
    const rows = await detections.list({ timeframe: '1d', symbols: ['SPY'], to: Date.parse('1998-04-01T00:00:00Z') });
    expect(rows.filter((row) => row.pattern === 'high_52w')).to.deep.equal([]);
    expect(rows.every((row) => row.ts.getTime() >= spy.ts[DETECTORS[row.pattern as keyof typeof DETECTORS].lookback])).to.equal(
      true,
    );
  });
});
