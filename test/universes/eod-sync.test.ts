import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { startWebServer, type WebServer } from '../../src/api/server.js';
import { BarsRepository } from '../../src/bars/bars.repository.js';
import { DEFAULT_ETF_THEMES, etfUniverseKey } from '../../src/universes/universes.js';
import { selectEtfThemes } from '../../src/universes/etf-themes.js';
import { etfFundsOn } from '../helpers/etfs.js';
import { createLogger } from '../../src/shared/logger.js';
import { UniverseSyncRepository } from '../../src/universes/sync.repository.js';
import { type EventEnvelope } from '../../src/notify/channels.js';
import { closeRedis, createRedis, type RedisClient } from '../../src/shared/redis.js';
import { TEST_TOKEN } from '../helpers/config.js';
import { SP500_CONSTITUENTS, US_ETFS, dataFile } from '../helpers/data.js';
import { closesOn, largestByMarketCap, readEtfs, writeDailySlice } from '../helpers/sp500.js';
import { TestSystem } from '../helpers/system.js';
import { waitForEvent } from '../helpers/wait.js';

const EARLIER = '2018-01-08';
const DATE = '2018-02-07';
const NEXT = '2018-02-08';

interface Summary {
  run_id: string;
  trading_date: string;
  changes: number;
  symbols_updated: number;
  tasks: Record<string, { added: number; removed: number; updated: number }>;
  universes: Record<string, { added: number; removed: number; updated: number }>;
}

interface Member {
  symbol: string;
  flags: { missing_metadata?: string[]; anchor_kept?: string[] };
}

interface Change {
  task: string;
  symbol: string;
  change: string;
  reason: string;
  trading_date: string;
  after: unknown;
}

describe('eod-sync job', function () {
  let system: TestSystem;
  let web: WebServer;
  let subscriber: RedisClient;
  let dir: string;
  const received: Array<{ channel: string; envelope: EventEnvelope<Record<string, unknown>> }> = [];

  const api = async <T>(route: string): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${web.url}${route}`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
    return { status: response.status, body: (await response.json()) as T };
  };
  const members = async (key: string, asOf?: string) => {
    const { status, body } = await api<{ members: Member[] }>(`/api/universes/${key}${asOf ? `?asOf=${asOf}` : ''}`);
    expect(status).to.equal(200);
    return body.members;
  };
  const symbolsOf = async (key: string, asOf?: string) => (await members(key, asOf)).map((member) => member.symbol).sort();
  const changes = async (key: string, query = '') =>
    (await api<{ changes: Change[] }>(`/api/universes/${key}/changes${query}`)).body.changes;

  /** Runs the sync for a date and waits until its sync_complete notification has arrived. */
  const sync = async (date: string): Promise<{ id: string; summary: Summary }> => {
    const enqueued = await system.producer.enqueue('eod-sync', { date });
    const complete = waitForEvent<[string, string]>(subscriber, 'message', (channel, message) => {
      const envelope = JSON.parse(message) as EventEnvelope<{ trading_date?: string }>;
      return (
        channel === system.channels.cacheSyncComplete && envelope.correlation_id === enqueued.id && envelope.data.trading_date === date
      );
    });
    const job = await system.producer.queue('sync').getJob(enqueued.id);
    const summary = (await job!.waitUntilFinished(await system.events('sync'), 30_000)) as Summary;
    await complete;
    return { id: enqueued.id, summary };
  };

  before(async function () {
    this.timeout(120_000);
    system = await TestSystem.create();
    await system.startWorker();
    web = await startWebServer(system.config, createLogger('test-web', 'silent'), '127.0.0.1');
    subscriber = createRedis(system.config, 'subscriber');
    subscriber.on('message', (channel: string, message: string) => {
      received.push({ channel, envelope: JSON.parse(message) as EventEnvelope<Record<string, unknown>> });
    });
    await subscriber.subscribe(system.channels.universeUpdated, system.channels.cacheSyncComplete);
    dir = await mkdtemp(path.join(os.tmpdir(), 'tickforge-sync-'));

    await system.run('import-symbols', { file: dataFile(SP500_CONSTITUENTS) });
    await system.run('import-symbols', { file: dataFile(US_ETFS) });
    const slice = path.join(dir, 'sp500-slice.csv.gz');
    await writeDailySlice('2017-12-01', slice);
    await system.run('import-bars', { file: slice, timeframe: '1d' });
    // Two made-up listings around the IPO window: OLDIPO is 60 days old on EARLIER and exactly
    // 90 days old (out) on DATE; FRESH lists between the two dates, and so does TINY, whose
    // 50 M USD market cap is below the IPO universe's floor.
    await system.run('import-symbols', {
      rows: [
        {
          symbol: 'OLDIPO',
          name: 'Old Listing Inc',
          sector: 'Health Care',
          ipo_date: '2017-11-09',
          shares_outstanding: 1e8,
          market_cap: 2e9,
        },
        {
          symbol: 'FRESH',
          name: 'Fresh Listing Inc',
          sector: 'Information Technology',
          ipo_date: '2018-01-25',
          shares_outstanding: 1e8,
          market_cap: 3e9,
        },
        {
          symbol: 'TINY',
          name: 'Tiny Listing Inc',
          sector: 'Information Technology',
          ipo_date: '2018-01-26',
          shares_outstanding: 1e6,
          market_cap: 5e7,
        },
      ],
    });
    await sync(EARLIER);
  });

  after(async () => {
    await closeRedis(subscriber);
    await web.close();
    await system.close();
    await rm(dir, { recursive: true, force: true });
  });

  let first: { id: string; summary: Summary };

  it('should put exactly the 100 largest stocks by recalculated market cap in top_100 when syncing 2018-02-07', async () => {
    first = await sync(DATE);
    expect(await symbolsOf('top_100')).to.deep.equal(largestByMarketCap(100, DATE));
    expect(await symbolsOf('top_500')).to.deep.equal(largestByMarketCap(500, DATE));
    // Every constituent's market cap moved from the file's 2018-02-08 price to the 2018-02-07 close.
    expect(first.summary.symbols_updated).to.equal(505);
    const aapl = await system.db('symbols').where({ symbol: 'AAPL' }).first();
    expect(aapl.market_cap).to.be.closeTo(aapl.shares_outstanding * closesOn(DATE).get('AAPL')!, 1);
  });

  it('should publish universe.updated once per changed universe and sync_complete with the summary, on pub/sub and in the stream', async () => {
    const ofRun = received.filter(
      (event) => event.envelope.correlation_id === first.id && event.envelope.data.trading_date === DATE,
    );
    const updated = ofRun.filter((event) => event.channel === system.channels.universeUpdated);
    const changedUniverses = Object.keys(first.summary.universes).sort();
    expect(changedUniverses).to.include.members(['top_100', 'ipo_recent', 'sector_information_technology']);
    expect(updated.map((event) => event.envelope.data.universe).sort()).to.deep.equal(changedUniverses);
    for (const event of updated) {
      expect(event.envelope).to.include({
        service: 'tickforge-worker',
        event_type: 'universe.updated',
        correlation_id: first.id,
      });
      const counts = first.summary.universes[event.envelope.data.universe as string];
      expect((event.envelope.data.added as string[]).length).to.equal(counts.added);
      expect((event.envelope.data.removed as string[]).length).to.equal(counts.removed);
    }
    const [complete] = ofRun.filter((event) => event.channel === system.channels.cacheSyncComplete);
    expect(complete.envelope.event_type).to.equal('cache.sync_complete');
    expect(complete.envelope.data).to.deep.include({
      run_id: first.summary.run_id,
      changes: first.summary.changes,
      tasks: first.summary.tasks,
    });

    const streamed = (await system.redis.xrange(system.config.eventStream, '-', '+')).map(([, fields]) => ({
      channel: fields[fields.indexOf('channel') + 1],
      envelope: JSON.parse(fields[fields.indexOf('event') + 1]) as EventEnvelope<Record<string, unknown>>,
    }));
    const streamedOfRun = streamed.filter(
      (event) => event.envelope.correlation_id === first.id && event.envelope.data.trading_date === DATE,
    );
    expect(streamedOfRun.map((event) => event.envelope)).to.deep.equal(ofRun.map((event) => event.envelope));
  });

  it('should change nothing and announce no universe when the same date is synced again', async () => {
    const before = await system.db('universe_members').count<Array<{ count: number }>>({ count: '*' });
    const again = await sync(DATE);
    expect(again.summary).to.deep.include({ changes: 0, symbols_updated: 0, tasks: {}, universes: {} });
    expect(
      await system.db('sync_changes_log').where({ run_id: again.summary.run_id }).count<Array<{ count: number }>>({ count: '*' }),
    ).to.deep.equal([{ count: 0 }]);
    expect(await system.db('universe_members').count<Array<{ count: number }>>({ count: '*' })).to.deep.equal(before);
    const announced = received.filter(
      (event) => event.envelope.correlation_id === again.id && event.channel === system.channels.universeUpdated,
    );
    expect(announced).to.deep.equal([]);
  });

  it('should answer with the membership of an earlier date when asked as of that date', async () => {
    const earlier = largestByMarketCap(100, EARLIER);
    expect(earlier).to.not.deep.equal(largestByMarketCap(100, DATE));
    expect(await symbolsOf('top_100', EARLIER)).to.deep.equal(earlier);
    expect(await symbolsOf('top_100', '2018-01-31')).to.deep.equal(earlier);
    expect(await symbolsOf('top_100', DATE)).to.deep.equal(largestByMarketCap(100, DATE));
    expect(await symbolsOf('top_100', '2017-12-29')).to.deep.equal([]);
  });

  it('should assign a recent IPO to ipo_recent and its sector theme and let an IPO older than 90 days leave', async () => {
    expect(await symbolsOf('ipo_recent', EARLIER)).to.deep.equal(['OLDIPO']);
    expect(await symbolsOf('ipo_recent', DATE)).to.deep.equal(['FRESH']);
    // FRESH has no bars yet; recent IPOs skip the liquidity filter of their sector theme.
    expect(await symbolsOf('sector_information_technology', DATE)).to.include('FRESH');
    // TINY is too small for the IPO scan, so its sector theme judges it by the usual filter (no bars: out).
    expect(await symbolsOf('sector_information_technology', DATE)).to.not.include('TINY');
    expect(await changes('ipo_recent', '?symbol=TINY')).to.deep.equal([]);
    const ipoChanges = await changes('ipo_recent', `?from=${DATE}&to=${DATE}`);
    expect(ipoChanges.find((c) => c.symbol === 'OLDIPO')).to.include({ change: 'removed', task: 'ipo_universe_assignment' });
    expect(ipoChanges.find((c) => c.symbol === 'OLDIPO')!.reason).to.match(
      /IPO on 2017-11-09 is 90 days before 2018-02-07, beyond/,
    );
    expect(ipoChanges.find((c) => c.symbol === 'FRESH')).to.deep.include({
      change: 'added',
      reason: 'IPO on 2018-01-25, 13 days before 2018-02-07',
      after: { ipo_date: '2018-01-25', sector: 'Information Technology', market_cap: 3e9, flags: {} },
    });
    const sectorChange = (await changes('sector_information_technology', '?symbol=FRESH'))[0];
    expect(sectorChange).to.include({ change: 'added', task: 'ipo_universe_assignment' });
  });

  it('should build the ETF themes by rule and filter as of the date, keeping anchors flagged', async () => {
    const selection = selectEtfThemes(etfFundsOn(DATE));
    for (const theme of selection) {
      expect(await symbolsOf(etfUniverseKey(theme.theme)), theme.theme).to.deep.equal(theme.members);
    }
    const commodities = await members('etf_commodities');
    expect(commodities.find((member) => member.symbol === 'DBA')?.flags.anchor_kept).to.have.length(2);
    const xlk = (await members('etf_technology')).find((member) => member.symbol === 'XLK');
    expect(xlk?.flags.missing_metadata).to.deep.equal(['aum', 'avg_volume', 'expense_ratio']);
    const sectors = selection.find((theme) => theme.theme === 'sectors')!;
    const inFile = new Set(readEtfs().map((row) => row.fund_symbol));
    const withoutData = DEFAULT_ETF_THEMES[0].anchors.filter(([symbol]) => !inFile.has(symbol)).length;
    const { body } = await api<{ universes: Array<{ key: string; members: number; flagged: number }> }>('/api/universes');
    expect(body.universes.find((universe) => universe.key === 'etf_sectors')?.flagged).to.equal(
      withoutData + Object.keys(sectors.anchorsKept).length,
    );
  });

  it('should close every membership of a delisted symbol on the date, with the reason, and keep its bars', async () => {
    const [largest] = largestByMarketCap(1, DATE);
    const bars = new BarsRepository(system.db, system.config.dbSchema);
    const barCount = await bars.count({ symbol: largest });
    const openBefore = await system.db('universe_members').where({ symbol: largest }).whereNull('removed_at').pluck('universe');
    expect(openBefore).to.include.members(['top_100', 'top_500', 'top_1000']);

    await system.run('import-symbols', { rows: [{ symbol: largest, status: 'delisted', delisted_at: NEXT }] });
    const { summary } = await sync(NEXT);

    expect(await system.db('universe_members').where({ symbol: largest }).whereNull('removed_at')).to.deep.equal([]);
    const log = await system.db('sync_changes_log').where({ run_id: summary.run_id, symbol: largest });
    expect(log.map((row: { universe: string }) => row.universe).sort()).to.deep.equal([...openBefore].sort());
    for (const row of log) expect(row).to.include({ task: 'delisted_cleanup', change: 'removed', reason: `delisted on ${NEXT}` });
    expect(await bars.count({ symbol: largest })).to.equal(barCount);
    expect(await symbolsOf('top_100', DATE)).to.include(largest);
    const top100 = await symbolsOf('top_100', NEXT);
    expect(top100).to.have.length(100);
    expect(top100).to.not.include(largest);
  });

  it('should refuse to sync a date before one a task has already synced', async () => {
    const failure = await system.run('eod-sync', { date: EARLIER }).catch((error: Error) => error);
    expect((failure as Error).message).to.match(/already synced 2018-02-08.*cannot be synced after it/);
  });

  it('should sync the dates after a rollback again, restoring the memberships they had changed', async () => {
    const [largest] = largestByMarketCap(1, DATE);
    const rollback = await new UniverseSyncRepository(system.db, system.config.dbSchema).rollBack(DATE);
    expect(rollback.tasks).to.have.length(5);
    expect(rollback.runsDeleted).to.equal(1);
    expect(rollback.membershipsReopened).to.be.at.least(3);
    expect(await symbolsOf('top_100', NEXT)).to.include(largest);
    const states = await system.db('sync_task_state').select(system.db.raw(`to_char(synced_through, 'YYYY-MM-DD') AS through`));
    expect(states.map((row: { through: string }) => row.through)).to.deep.equal(Array(5).fill(DATE));

    await sync(NEXT);
    expect(await symbolsOf('top_100', NEXT)).to.not.include(largest);
  });

  it('should refuse a sync date after today in New York and the sync task job from outside, before either reaches a queue', async () => {
    const future = await system.producer.enqueue('eod-sync', { date: '2030-12-30' }).catch((error: Error) => error);
    expect((future as Error).message).to.match(/date: must not be after today in New York/);
    const response = await fetch(`${web.url}/api/jobs/eod-sync-task`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ date: DATE, task: 'delisted_cleanup', runId: 'forged' }),
    });
    expect(response.status).to.equal(404);
    expect(((await response.json()) as { error: string }).error).to.match(/cannot be enqueued directly/);
    expect(await system.producer.queue('sync').getJobCountByTypes('waiting', 'delayed', 'prioritized')).to.equal(0);
  });

  it('should answer 404 for an unknown universe and 400 naming the field for a bad date', async () => {
    expect((await api(`/api/universes/top_7`)).status).to.equal(404);
    const bad = await api<{ issues: Array<{ path: string }> }>(`/api/universes/top_100?asOf=2018-02-30`);
    expect(bad.status).to.equal(400);
    expect(bad.body.issues[0].path).to.equal('asOf');
    const refused = await system.producer.enqueue('eod-sync', { date: '2018-02-10' }).catch((error: Error) => error);
    expect((refused as Error).message).to.match(/date: must be an NYSE trading session/);
  });
});
