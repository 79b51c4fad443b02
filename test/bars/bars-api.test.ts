import { readFileSync } from 'node:fs';
import http from 'node:http';
import { expect } from 'chai';
import { startWebServer, type WebServer } from '../../src/api/server.js';
import { BarsCache } from '../../src/bars/cache.js';
import { BarsQueryService, barsQuerySchema } from '../../src/bars/query.js';
import { Store } from '../../src/store/store.js';
import { aggregateBars } from '../../src/bars/aggregate.js';
import { NYSE } from '../../src/shared/calendar.js';
import { createLogger } from '../../src/shared/logger.js';
import { TEST_TOKEN } from '../helpers/config.js';
import { loadBars } from '../helpers/bars.js';
import { SPY_1MIN, SPY_DAILY, dataFile } from '../helpers/data.js';
import { TestSystem } from '../helpers/system.js';
import { eventually } from '../helpers/wait.js';

interface BarsBody {
  origin: string;
  variant: string;
  bars: Array<{
    ts: string;
    open: number;
    high: number;
    low: number;
    close: number;
    volume: number;
    vwap: number | null;
    filled?: boolean;
  }>;
  error?: string;
  issues?: Array<{ path: string; message: string }>;
}

/** The lines of the SPY file for one New York date, as CSV text. */
function spyDay(date: string, edit: (line: string) => string = (line) => line): string {
  const [header, ...lines] = readFileSync(dataFile(SPY_1MIN), 'utf8').trim().split(/\r?\n/);
  return [header, ...lines.filter((line) => line.startsWith(date)).map(edit)].join('\n');
}

describe('GET /api/bars and the bars cache', function () {
  let system: TestSystem;
  let web: WebServer;
  const spy = loadBars(SPY_1MIN, '1m');

  async function get(
    query: Record<string, string>,
    token: string | null = TEST_TOKEN,
  ): Promise<{ status: number; body: BarsBody }> {
    const response = await fetch(`${web.url}/api/bars?${new URLSearchParams(query)}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    return { status: response.status, body: (await response.json()) as BarsBody };
  }

  /** The value of a counter in /metrics (0 when absent). */
  async function metric(name: string, labels = ''): Promise<number> {
    const text = await (await fetch(`${web.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
    return line ? Number(line.split(' ')[1]) : 0;
  }

  before(async () => {
    system = await TestSystem.create();
    await system.startWorker();
    web = await startWebServer(system.config, createLogger('test-web', 'silent'), '127.0.0.1');
    await system.run('import-bars', { file: dataFile(SPY_1MIN), symbol: 'SPY', timeframe: '1m' });
    await system.run('aggregate-bars', { symbols: 'SPY', targets: ['5m', '1h', '1d'] });
  });

  after(async () => {
    await web.close();
    await system.close();
  });

  it('should serve stored session-aligned hours, the second time from the cache', async () => {
    const hitsBefore = await metric('tickforge_bars_cache_requests_total', '{tier="memory",result="hit"}');
    const query = { symbol: 'SPY', timeframe: '1h', from: '2013-10-07', to: '2013-10-07' };
    const first = await get(query);
    expect(first.status).to.equal(200);
    expect(first.body).to.include({ origin: 'stored', variant: 'regular' });
    expect(first.body.bars.map((bar) => bar.ts)).to.deep.equal(
      ['13:30', '14:30', '15:30', '16:30', '17:30', '18:30', '19:30'].map((time) => `2013-10-07T${time}:00.000Z`),
    );
    const second = await get(query);
    expect(second.body).to.deep.equal(first.body);
    expect(await metric('tickforge_bars_cache_requests_total', '{tier="memory",result="hit"}')).to.equal(hitsBefore + 1);
    // node:http rather than fetch, which adds Cache-Control: no-cache to conditional requests.
    const status = (headers: Record<string, string>) =>
      new Promise<{ status?: number; etag?: string }>((resolve, reject) => {
        http
          .get(
            `${web.url}/api/bars?${new URLSearchParams(query)}`,
            { headers: { authorization: `Bearer ${TEST_TOKEN}`, ...headers } },
            (response) => {
              response.resume();
              resolve({ status: response.statusCode, etag: response.headers.etag });
            },
          )
          .on('error', reject);
      });
    const { etag } = await status({});
    expect(await status({ 'if-none-match': etag! })).to.include({ status: 304 });
  });

  it('should never serve a stale answer after an import or an aggregation commits', async () => {
    await system.run('import-bars', { csv: spyDay('2013-10-08'), symbol: 'CHG', timeframe: '1m' });
    await system.run('aggregate-bars', { symbols: 'CHG', targets: ['1d'] });
    const daily = { symbol: 'CHG', timeframe: '1d' };
    const minute = { symbol: 'CHG', timeframe: '1m', from: '2013-10-08T13:30:00Z', to: '2013-10-08T13:31:00Z' };
    const [before, beforeMinute] = [await get(daily), await get(minute)];
    expect((await get(minute)).body).to.deep.equal(beforeMinute.body);

    // The 09:30 bar trades 1,000 shares more.
    const edited = spyDay('2013-10-08', (line) => {
      if (!line.startsWith('2013-10-08T09:30')) return line;
      const fields = line.split(',');
      fields[6] = String(Number(fields[6]) + 1_000);
      return fields.join(',');
    });
    await system.run('import-bars', { csv: edited, symbol: 'CHG', timeframe: '1m' });
    expect((await get(minute)).body.bars[0].volume).to.equal(beforeMinute.body.bars[0].volume + 1_000);
    await system.run('aggregate-bars', { symbols: 'CHG', targets: ['1d'] });
    expect((await get(daily)).body.bars[0].volume).to.equal(before.body.bars[0].volume + 1_000);
  });

  it('should cut stored 1m bars to the session mode asked for', async () => {
    const regular = await get({ symbol: 'SPY', timeframe: '1m', from: '2013-10-09', to: '2013-10-09' });
    expect(regular.body).to.include({ origin: 'provider', variant: '' });
    expect(regular.body.bars).to.have.length(390);
    const extended = await get({ symbol: 'SPY', timeframe: '1m', from: '2013-10-09', to: '2013-10-09', session: 'extended' });
    const session = NYSE.session('2013-10-09')!;
    expect(extended.body.bars.length).to.be.greaterThan(390);
    expect(extended.body.bars.some((bar) => Date.parse(bar.ts) < session.open)).to.equal(true);
  });

  it('should serve imported daily bars as they came when no aggregate of the variant exists', async () => {
    await system.run('import-bars', { file: dataFile(SPY_DAILY), symbol: 'SPYD', timeframe: '1d' });
    const { status, body } = await get({ symbol: 'SPYD', timeframe: '1d', from: '2013-10-07', to: '2013-10-11' });
    expect(status).to.equal(200);
    expect(body).to.include({ origin: 'provider', variant: '' });
    expect(body.bars.map((bar) => bar.ts.slice(0, 10))).to.deep.equal([
      '2013-10-07',
      '2013-10-08',
      '2013-10-09',
      '2013-10-10',
      '2013-10-11',
    ]);
    const weekly = await get({ symbol: 'SPYD', timeframe: '1w', from: '2013-10-07', to: '2013-10-11' });
    expect(weekly.body.origin).to.equal('derived');
    expect(weekly.body.bars[0].volume).to.equal(body.bars.reduce((sum, bar) => sum + bar.volume, 0));
  });

  it('should derive a timeframe that is not stored from the 1m bars, exactly as the kernel builds it', async () => {
    const { status, body } = await get({ symbol: 'SPY', timeframe: '4h', alignment: 'natural' });
    expect(status).to.equal(200);
    expect(body).to.include({ origin: 'derived', variant: 'regular/natural' });
    const oracle = aggregateBars(spy, { source: '1m', targets: ['4h'], alignment: 'natural' }).bars['4h']!;
    expect(body.bars.map((bar) => Date.parse(bar.ts))).to.deep.equal(Array.from(oracle.ts));
    expect(body.bars.map((bar) => bar.volume)).to.deep.equal(Array.from(oracle.volume));
  });

  it('should answer 404 naming the job to run when deriving would read too many base bars', async () => {
    const service = new BarsQueryService(
      new Store(system.db, system.config.dbSchema).barsReader,
      new BarsCache(system.redis, system.config.prefix),
      { maxDeriveSourceBars: 1_000 },
    );
    const answer = await service.answer(barsQuerySchema.parse({ symbol: 'SPY', timeframe: '2h' }));
    expect(answer.found).to.equal(false);
    expect(!answer.found && answer.reason).to.match(
      /not stored .* POST \/api\/jobs\/aggregate-bars \{"symbols":"SPY","source":"1m","targets":\["2h"\]/,
    );
  });

  it('should answer 404 for a symbol with nothing to build from, and 400 naming a bad field', async () => {
    const missing = await get({ symbol: 'NOPE', timeframe: '1h' });
    expect(missing.status).to.equal(404);
    expect(missing.body.error).to.match(/no 1h bars of NOPE/);
    const bad = await get({ symbol: 'SPY', timeframe: '7m', colour: 'red' });
    expect(bad.status).to.equal(400);
    expect(bad.body.issues!.map((issue) => issue.path)).to.include.members(['timeframe', '']);
    const reversed = await get({ symbol: 'SPY', timeframe: '1h', from: '2013-10-09', to: '2013-10-08' });
    expect(reversed.status).to.equal(400);
    expect((await get({ symbol: 'SPY', timeframe: '1h' }, null)).status).to.equal(401);
  });

  it('should include stored fill bars, marked, only when fill=forward is asked for', async () => {
    const gappy = spyDay('2013-10-10')
      .split('\n')
      .filter((line) => !line.startsWith('2013-10-10T11:1'))
      .join('\n');
    await system.run('import-bars', { csv: gappy, symbol: 'HOLE', timeframe: '1m' });
    await system.run('aggregate-bars', { symbols: 'HOLE', targets: ['5m'], fill: 'forward' });
    const query = { symbol: 'HOLE', timeframe: '5m', from: '2013-10-10', to: '2013-10-10' };
    const plain = await get(query);
    const filled = await get({ ...query, fill: 'forward' });
    expect(plain.body.bars).to.have.length(76);
    expect(filled.body.bars).to.have.length(78);
    expect(filled.body.bars.filter((bar) => bar.filled).map((bar) => bar.ts)).to.deep.equal([
      '2013-10-10T15:10:00.000Z',
      '2013-10-10T15:15:00.000Z',
    ]);
    expect(filled.body.bars.filter((bar) => bar.filled).every((bar) => bar.volume === 0)).to.equal(true);
  });

  it('should warm explicit queries and the most requested ones, counting them in /metrics', async () => {
    const explicit = (
      await system.run('warm-cache', {
        queries: [
          { symbol: 'SPY', timeframe: '1d' },
          { symbol: 'SPY', timeframe: '15m', from: '2013-10-04' },
        ],
      })
    ).result as {
      warmed: number;
      keys: string[];
    };
    expect(explicit.warmed).to.equal(2);
    for (const key of explicit.keys) expect(await system.redis.exists(key)).to.equal(1);
    // The worker warmed Redis; this process has not seen the query, so Redis answers it.
    const hits = await metric('tickforge_bars_cache_requests_total', '{tier="redis",result="hit"}');
    await get({ symbol: 'SPY', timeframe: '1d' });
    expect(await metric('tickforge_bars_cache_requests_total', '{tier="redis",result="hit"}')).to.equal(hits + 1);

    for (let i = 0; i < 5; i++) await get({ symbol: 'SPY', timeframe: '30m', from: '2013-10-07' });
    const top = (await system.run('warm-cache', { top: 1 })).result as { queries: number; warmed: number; alreadyCached: number };
    expect(top).to.include({ queries: 1, alreadyCached: 1, warmed: 0 });
    await system.run('aggregate-bars', { symbols: 'SPY', targets: ['30m'] });
    const afterWrite = (await system.run('warm-cache', { top: 1 })).result as { warmed: number };
    expect(afterWrite.warmed).to.equal(1);
    await eventually(
      async () => (await metric('tickforge_bars_cache_warmed_total')) >= 3,
      'the worker to relay tickforge_bars_cache_warmed_total',
      15_000,
      250,
    );
  });
});
