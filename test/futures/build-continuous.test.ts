import { expect } from 'chai';
import { startWebServer, type WebServer } from '../../src/api/server.js';
import { BarsRepository, type StoredBar } from '../../src/bars/bars.repository.js';
import { FuturesRepository } from '../../src/futures/futures.repository.js';
import type { RollEvent } from '../../src/futures/adjust.js';
import type { BuildContinuousResult } from '../../src/futures/build-continuous.contract.js';
import type { PayloadOf } from '../../src/queues/registry.js';
import { createLogger } from '../../src/shared/logger.js';
import { type BarsUpdated, type EventEnvelope } from '../../src/notify/channels.js';
import { closeRedis, createRedis, type RedisClient } from '../../src/shared/redis.js';
import { TEST_TOKEN } from '../helpers/config.js';
import { ES_FUTURES, dataFile } from '../helpers/data.js';
import { TestSystem } from '../helpers/system.js';
import { waitForEvent } from '../helpers/wait.js';

type BuildResult = BuildContinuousResult;

const DAY = (bar: StoredBar) => bar.ts.toISOString().slice(0, 10);

describe('build-continuous job', function () {
  let system: TestSystem;
  let bars: BarsRepository;
  let futures: FuturesRepository;
  let web: WebServer;
  let subscriber: RedisClient;
  const byDate = new Map<string, Map<string, StoredBar>>();

  /** A stored bar of a contract or series on a session date. */
  async function barOn(symbol: string, date: string): Promise<StoredBar> {
    if (!byDate.has(symbol)) {
      const stored = await bars.range({ symbol, timeframe: '1d', variant: '' });
      byDate.set(symbol, new Map(stored.map((bar) => [DAY(bar), bar])));
    }
    const bar = byDate.get(symbol)!.get(date);
    if (!bar) throw new Error(`${symbol} has no bar on ${date}`);
    return bar;
  }

  async function build(payload: PayloadOf<'build-continuous'>): Promise<BuildResult> {
    const { result } = await system.run('build-continuous', payload);
    byDate.delete(result.series);
    return result;
  }

  const decemberRoll = (result: BuildResult) => result.rolls.find((roll) => roll.fromContract === 'ESZ13')!;

  before(async () => {
    system = await TestSystem.create();
    await system.startWorker();
    bars = new BarsRepository(system.db, system.config.dbSchema);
    futures = new FuturesRepository(system.db, system.config.dbSchema);
    web = await startWebServer(system.config, createLogger('test-web', 'silent'), '127.0.0.1');
    subscriber = createRedis(system.config, 'subscriber');
    await subscriber.subscribe(system.channels.barsUpdated);
    await system.run('import-futures', { file: dataFile(ES_FUTURES) });
  });

  after(async () => {
    await closeRedis(subscriber);
    await web.close();
    await system.close();
  });

  const api = (path: string, token: string | null = TEST_TOKEN) =>
    fetch(`${web.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  /**
   * ESZ13 expires on 2013-12-20. Five sessions earlier is 2013-12-13; three is 2013-12-17.
   * ESH14 first out-trades ESZ13 on 2013-12-13 (868,208 against 347,764 contracts; on
   * 2013-12-12 it was 354,874 against 1,113,344), so a volume roll that may wait is on
   * 2013-12-16. The file has no open interest for 2013-12-13, so the open-interest policy
   * falls back to that same volume crossover.
   */
  const EXPECTED = [
    { roll: 'calendar', rollOffset: 5, adjust: 'ratio', rollDate: '2013-12-13', trigger: 'calendar' },
    { roll: 'calendar', rollOffset: 3, adjust: 'difference', rollDate: '2013-12-17', trigger: 'calendar' },
    { roll: 'volume', rollOffset: 5, adjust: 'difference', rollDate: '2013-12-13', trigger: 'forced' },
    { roll: 'volume', rollOffset: 3, adjust: 'ratio', rollDate: '2013-12-16', trigger: 'volume' },
    { roll: 'open_interest', rollOffset: 5, adjust: 'ratio', rollDate: '2013-12-13', trigger: 'forced' },
    { roll: 'open_interest', rollOffset: 3, adjust: 'difference', rollDate: '2013-12-16', trigger: 'volume' },
  ] as const;

  for (const expected of EXPECTED) {
    it(`should roll ESZ13 → ESH14 on ${expected.rollDate} with no jump when roll is ${expected.roll}, offset ${expected.rollOffset}, adjust ${expected.adjust}`, async () => {
      const { rollDate, trigger, ...definition } = expected;
      const result = await build({ root: 'ES', ...definition });
      const roll = decemberRoll(result);
      expect(roll).to.include({ rollDate, trigger, toContract: 'ESH14', issue: null });

      // The reference closes are the raw closes of the last session held in ESZ13.
      const front = await barOn('ESZ13', roll.referenceDate!);
      const back = await barOn('ESH14', roll.referenceDate!);
      expect(roll).to.include({ fromClose: front.close, toClose: back.close });

      // No jump: the series' move into the roll date is ESH14's own move.
      const seriesBefore = await barOn(result.series, roll.referenceDate!);
      const seriesOn = await barOn(result.series, rollDate);
      const backOn = await barOn('ESH14', rollDate);
      if (expected.adjust === 'ratio')
        expect(seriesOn.close / seriesBefore.close).to.be.closeTo(backOn.close / back.close, 1e-12);
      else expect(seriesOn.close - seriesBefore.close).to.be.closeTo(backOn.close - back.close, 1e-9);
      // Volume is never adjusted; the roll date onwards is ESH14's raw price (its later rolls are unadjusted).
      expect(seriesBefore.volume).to.equal(front.volume);
      expect(seriesOn.close).to.equal(backOn.close);
      expect(seriesOn.source).to.equal('continuous');
    });
  }

  it('should report where open interest was missing and volume decided instead', async () => {
    const result = await build({ root: 'ES', roll: 'open_interest', rollOffset: 3, adjust: 'none' });
    expect(result.openInterestFallback!.sessions).to.be.greaterThan(0);
    expect(result.openInterestFallback!.last! >= '2013-12-16').to.equal(true);
  });

  it('should report the rolls that fall where the file has no data, and the contracts missing from the chain', async () => {
    const result = await build({ root: 'ES', roll: 'calendar', adjust: 'difference' });
    const march = result.rolls.find((roll) => roll.fromContract === 'ESH14')!;
    expect(march).to.include({
      rollDate: '2014-03-14',
      toContract: 'ESM14',
      referenceDate: null,
      difference: null,
      cumulativeAdjustment: 0,
    });
    expect(march.issue).to.equal(
      'ESH14 and ESM14 have no bar on the reference session 2014-03-13 and no session within 5 before it has closes of both; the roll is not adjusted; ESM14 has no bar on the roll date 2014-03-14',
    );
    const [stored] = (await futures.rollEvents(result.series)).filter((roll) => roll.fromContract === 'ESH14');
    expect(stored).to.deep.equal(march);
    expect(result.gaps[0]).to.deep.include({ contract: 'ESH14', from: '2013-12-27', to: '2014-03-13' });
    const [gap] = result.missingContracts;
    expect(gap).to.deep.include({ after: 'ESZ14', before: 'ESH20' });
    expect([gap.missing.length, gap.missing[0], gap.missing.at(-1)]).to.deep.equal([20, 'ESH15', 'ESZ19']);
  });

  it('should report a missing reference-day bar and move the spread to the last session both traded', async () => {
    // NQH24 expires 2024-03-15; five sessions earlier is 2024-03-08, so the reference is 2024-03-07.
    const csv = [
      'contract,contract_month,date,open,high,low,close,volume,open_interest',
      'NQH24,202403,2024-03-05,18000,18100,17900,18050,300000,',
      'NQH24,202403,2024-03-06,18050,18200,18000,18150,280000,',
      'NQM24,202406,2024-03-05,18200,18300,18100,18250,20000,',
      'NQM24,202406,2024-03-06,18250,18400,18200,18360,25000,',
      'NQM24,202406,2024-03-07,18360,18500,18300,18450,40000,',
      'NQM24,202406,2024-03-11,18450,18600,18400,18500,300000,',
    ].join('\n');
    await system.run('import-futures', { csv });
    const result = await build({ root: 'NQ', roll: 'calendar', adjust: 'difference' });
    expect(result.rolls).to.have.length(1);
    expect(result.rolls[0]).to.include({
      rollDate: '2024-03-08',
      referenceDate: '2024-03-06',
      fromClose: 18150,
      toClose: 18360,
      difference: 210,
    });
    expect(result.rolls[0].issue).to.equal(
      'NQH24 has no bar on the reference session 2024-03-07; the spread is measured on 2024-03-06, the latest session within 5 before it on which both closed; NQM24 has no bar on the roll date 2024-03-08',
    );
    expect(result.gaps).to.deep.equal([
      { contract: 'NQH24', from: '2024-03-07', to: '2024-03-07', sessions: 1 },
      { contract: 'NQM24', from: '2024-03-08', to: '2024-03-08', sessions: 1 },
    ]);
    const stored = await bars.range({ symbol: result.series, timeframe: '1d', variant: '' });
    expect(stored.map((bar) => [DAY(bar), bar.close])).to.deep.equal([
      ['2024-03-05', 18260],
      ['2024-03-06', 18360],
      ['2024-03-11', 18500],
    ]);
  });

  it('should replace, not duplicate, the series and its rolls when rebuilt, and announce it after commit', async () => {
    const definition = { root: 'ES', roll: 'volume', adjust: 'ratio' } as const;
    const first = await build(definition);
    const { id } = await system.producer.enqueue('build-continuous', definition);
    const notified = waitForEvent<[string, string]>(subscriber, 'message', (_channel, message) => {
      return (JSON.parse(message) as EventEnvelope).correlation_id === id;
    });
    const job = await system.producer.queue('futures').getJob(id);
    const again = (await job!.waitUntilFinished(await system.events('futures'), 60_000)) as BuildResult;
    expect(again.replaced).to.equal(first.bars);
    expect(again.bars).to.equal(first.bars);
    expect(await bars.count({ symbol: first.series })).to.equal(first.bars);
    expect(await futures.rollEvents(first.series)).to.have.length(first.rolls.length);

    const [, message] = await notified;
    const envelope = JSON.parse(message) as EventEnvelope<BarsUpdated>;
    expect(envelope.data).to.deep.include({
      symbol: first.series,
      series: [{ timeframe: '1d', variant: '', rows: first.bars }],
      job: 'build-continuous',
    });
    const series = await futures.series(first.series);
    expect(series).to.deep.include({ root: 'ES', roll: 'volume', roll_offset: 5, adjust: 'ratio', job_id: id });
  });

  it('should refuse ratio adjustment of a market with a negative price, and build it with difference', async () => {
    const csv = [
      'contract,contract_month,date,open,high,low,close,volume,open_interest,last_trade_date',
      'CLK20,202005,2020-04-17,18.3,18.5,17.3,18.27,200000,,2020-04-21',
      'CLK20,202005,2020-04-20,17.73,17.85,-40.32,-37.63,250000,,2020-04-21',
      'CLM20,202006,2020-04-17,25.5,26.1,24.8,25.03,150000,,2020-05-19',
      'CLM20,202006,2020-04-20,24.6,24.9,20.1,20.43,300000,,2020-05-19',
      'CLM20,202006,2020-04-21,20.43,21.3,6.5,11.57,400000,,2020-05-19',
    ].join('\n');
    await system.run('import-futures', { csv });
    const failure = await system
      .run('build-continuous', { root: 'CL', roll: 'calendar', rollOffset: 0, adjust: 'ratio' })
      .catch((error: Error) => error);
    expect((failure as Error).message).to.equal(
      'cannot build CL.c.calendar0.ratio: ratio adjustment needs positive prices, but CLK20 has close -37.63 on 2020-04-20; use difference adjustment for this root',
    );
    expect(await bars.count({ symbol: 'CL.c.calendar0.ratio' })).to.equal(0);
    const result = await build({ root: 'CL', roll: 'calendar', rollOffset: 0, adjust: 'difference' });
    expect(result.rolls[0]).to.include({ rollDate: '2020-04-21', fromClose: -37.63, toClose: 20.43 });
    expect(result.rolls[0].difference).to.be.closeTo(58.06, 1e-9);
  });

  it('should fail, storing nothing, when every bar falls after its contract’s roll date', async () => {
    // RTYH24 expires 2024-03-15; with rollOffset 5 it may be held only until 2024-03-07.
    const csv = [
      'contract,contract_month,date,open,high,low,close,volume,open_interest',
      'RTYH24,202403,2024-03-12,2050,2060,2040,2055,90000,',
    ].join('\n');
    await system.run('import-futures', { csv });
    const failure = await system
      .run('build-continuous', { root: 'RTY', roll: 'calendar', adjust: 'none' })
      .catch((error: Error) => error);
    expect((failure as Error).message).to.match(/^cannot build RTY\.c\.calendar\.none: no stored bar of root RTY falls before/);
    expect(await futures.series('RTY.c.calendar.none')).to.equal(undefined);
  });

  describe('GET /api/futures/:root/continuous', () => {
    it('should answer 404 naming the job to run when the series has not been built', async () => {
      const response = await api('/api/futures/ES/continuous?roll=calendar&adjust=none&rollOffset=7');
      expect(response.status).to.equal(404);
      const body = (await response.json()) as { error: string };
      expect(body.error).to.equal(
        'continuous series ES.c.calendar7.none has not been built: run the build-continuous job with {"root":"ES","roll":"calendar","rollOffset":7,"adjust":"none"} (POST /api/jobs/build-continuous)',
      );
    });

    it('should answer 400 naming each bad query field', async () => {
      const response = await api('/api/futures/ES/continuous?roll=weekly&adjust=ratio&rollOffset=x&colour=red');
      expect(response.status).to.equal(400);
      const body = (await response.json()) as { issues: Array<{ path: string }> };
      expect(body.issues.map((issue) => issue.path).sort()).to.deep.equal(['', 'roll', 'rollOffset']);
      const badRoot = await api('/api/futures/es;drop/continuous?roll=volume&adjust=ratio');
      expect(badRoot.status).to.equal(400);
    });

    it('should answer 401 without a token', async () => {
      expect((await api('/api/futures/ES/continuous?roll=volume&adjust=ratio', null)).status).to.equal(401);
    });

    it('should return the bars with the contract each came from, and the roll events', async () => {
      const built = await build({ root: 'ES', roll: 'volume', rollOffset: 3, adjust: 'difference' });
      const response = await api(
        '/api/futures/ES/continuous?roll=volume&adjust=difference&rollOffset=3&from=2013-12-12&to=2013-12-17',
      );
      expect(response.status).to.equal(200);
      const body = (await response.json()) as {
        series: string;
        bars: Array<{ date: string; contract: string; close: number; ts: string }>;
        rolls: RollEvent[];
      };
      expect(body.series).to.equal('ES.c.volume3.difference');
      expect(body.bars.map((bar) => [bar.date, bar.contract])).to.deep.equal([
        ['2013-12-12', 'ESZ13'],
        ['2013-12-13', 'ESZ13'],
        ['2013-12-16', 'ESH14'],
        ['2013-12-17', 'ESH14'],
      ]);
      expect(body.bars[0].ts).to.equal('2013-12-12T05:00:00.000Z');
      expect(body.bars[2].close).to.equal((await barOn('ESH14', '2013-12-16')).close);
      expect(body.rolls).to.deep.equal(built.rolls);
    });
  });
});
