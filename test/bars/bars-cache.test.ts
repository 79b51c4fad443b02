import { readFileSync } from 'node:fs';
import http from 'node:http';
import { expect } from 'chai';
import { startWebServer, type WebServer } from '../../src/api/server.js';
import { BarsCache, cacheOptions } from '../../src/bars/cache.js';
import { BarsQueryService, barsQuerySchema } from '../../src/bars/query.js';
import { startRedisServer } from '../../src/cli/redis-child.js';
import type { ChildService } from '../../src/cli/child-service.js';
import { Store } from '../../src/store/store.js';
import { waitForRedis } from '../../src/shared/redis.js';
import { createLogger } from '../../src/shared/logger.js';
import { TEST_READ_TOKEN, TEST_TOKEN } from '../helpers/config.js';
import { SPY_DAILY, dataFile } from '../helpers/data.js';
import { TestSystem } from '../helpers/system.js';
import { eventually } from '../helpers/wait.js';

interface BarsBody {
  bars: Array<{ ts: string; volume: number }>;
}

/** The SPY daily file from `from` (a date) on, as CSV text, each line edited. */
function spyDaily(from: string, edit: (line: string) => string = (line) => line): string {
  const [header, ...lines] = readFileSync(dataFile(SPY_DAILY), 'utf8').trim().split(/\r?\n/);
  return [header, ...lines.filter((line) => line.slice(0, 10) >= from).map(edit)].join('\n');
}

/** Headroom the private Redis gets over what it uses at start: less than the answers below would take uncapped. */
const REDIS_HEADROOM_BYTES = 8 * 1024 * 1024;
/** The bars cache's Redis budget in these tests. */
const CACHE_BUDGET_BYTES = 1_000_000;

describe('bars cache tiers: TTL by data class, invalidation across web processes, the Redis budget', function () {
  let redisServer: ChildService;
  let system: TestSystem;
  let webs: WebServer[];

  async function get(
    web: WebServer,
    query: Record<string, string>,
    token = TEST_TOKEN,
  ): Promise<{ status: number; body: BarsBody }> {
    const response = await fetch(`${web.url}/api/bars?${new URLSearchParams(query)}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    return { status: response.status, body: (await response.json()) as BarsBody };
  }

  /** The series of a metric in a /metrics scrape whose labels include `labels`, by their full label text. */
  async function series(web: WebServer, name: string, labels: Record<string, string>): Promise<Map<string, number>> {
    const text = await (await fetch(`${web.url}/metrics`)).text();
    const found = new Map<string, number>();
    for (const line of text.split('\n')) {
      const match = /^(\w+)\{([^}]*)\} (\S+)$/.exec(line);
      if (!match || match[1] !== name) continue;
      const pairs = Object.fromEntries([...match[2].matchAll(/(\w+)="([^"]*)"/g)].map(([, key, value]) => [key, value]));
      if (Object.entries(labels).every(([key, value]) => pairs[key] === value)) found.set(match[2], Number(match[3]));
    }
    return found;
  }

  before(async () => {
    // A Redis of our own, with a memory limit and noeviction as production runs it, so that
    // a cache without a budget would stop the queues here.
    redisServer = await startRedisServer();
    system = await TestSystem.create({
      redisUrl: redisServer.url,
      cacheRedisMaxBytes: CACHE_BUDGET_BYTES,
      cacheCompressMinBytes: 64 * 1024,
      cacheTtlDefault: 200,
      cacheTtlHistorical: 2_000,
      cacheTtlMarketHours: 20,
    });
    await waitForRedis(system.redis);
    const used = Number(/used_memory:(\d+)/.exec(await system.redis.info('memory'))![1]);
    await system.redis.config('SET', 'maxmemory', String(used + REDIS_HEADROOM_BYTES));
    await system.startWorker();
    const logger = createLogger('test-web', 'silent');
    webs = [await startWebServer(system.config, logger, '127.0.0.1'), await startWebServer(system.config, logger, '127.0.0.1')];
    await system.run('import-bars', { csv: spyDaily('2015-01-01'), symbol: 'SPYD', timeframe: '1d' });
  });

  after(async () => {
    await Promise.all((webs ?? []).map((web) => web.close()));
    await system?.close();
    await redisServer?.stop();
  });

  it('should keep an answer for the TTL of its data class, as configured', async () => {
    const cache = new BarsCache(system.redis, system.config.prefix, cacheOptions(system.config));
    const ttlAt = async (now: string, query: Record<string, string>) => {
      const service = new BarsQueryService(new Store(system.db, system.config.dbSchema).barsReader, cache, {
        now: () => Date.parse(now),
      });
      const answer = await service.refresh(barsQuerySchema.parse(query));
      return (await system.redis.pttl(answer.key)) / 1000;
    };
    // Wednesday 2024-03-06 10:00 in New York: NYSE is open.
    const open = '2024-03-06T15:00:00Z';
    const historical = await ttlAt(open, { symbol: 'SPYD', timeframe: '1d', from: '2016-01-04', to: '2016-02-01' });
    const marketHours = await ttlAt(open, { symbol: 'SPYD', timeframe: '1d', from: '2016-01-04' });
    // Saturday: closed.
    const closed = await ttlAt('2024-03-09T15:00:00Z', { symbol: 'SPYD', timeframe: '1d', from: '2016-01-05' });
    expect(historical).to.be.within(1_990, 2_000);
    expect(marketHours).to.be.within(10, 20);
    expect(closed).to.be.within(190, 200);
  });

  it('should send a large answer gzipped as cached to a client that takes gzip, equal to the plain one', async () => {
    const query = new URLSearchParams({ symbol: 'SPYD', timeframe: '1d', from: '2015-01-01', to: '2018-01-01' });
    const fetchRaw = (acceptEncoding?: string) =>
      new Promise<{ encoding?: string; body: Buffer }>((resolve, reject) => {
        const headers = {
          authorization: `Bearer ${TEST_TOKEN}`,
          ...(acceptEncoding ? { 'accept-encoding': acceptEncoding } : {}),
        };
        http
          .get(`${webs[0].url}/api/bars?${query}`, { headers }, (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () => resolve({ encoding: response.headers['content-encoding'], body: Buffer.concat(chunks) }));
          })
          .on('error', reject);
      });
    const plain = await fetchRaw();
    expect(plain.encoding).to.equal(undefined);
    expect(plain.body.length).to.be.greaterThan(64 * 1024);
    const gzipped = await fetchRaw('gzip, br');
    expect(gzipped.encoding).to.equal('gzip');
    expect(gzipped.body.length).to.be.lessThan(plain.body.length / 2);
    const { gunzipSync } = await import('node:zlib');
    expect(gunzipSync(gzipped.body).toString()).to.equal(plain.body.toString());
  });

  it('should drop every web process in-memory answers of a symbol when any process bumps it, and never serve the old bars after a write', async () => {
    await system.run('import-bars', {
      csv: spyDaily('2017-01-01').split('\n').slice(0, 30).join('\n'),
      symbol: 'XPC',
      timeframe: '1d',
    });
    const query = { symbol: 'XPC', timeframe: '1d', from: '2017-01-03', to: '2017-01-10' };
    // The deployment's total of memory hits: one more for each web process that answers again. A
    // scrape publishes the scraped process's counts first, so scrape the others before reading.
    const memoryHits = async () => {
      for (const web of webs.slice(1)) await fetch(`${web.url}/metrics`);
      const counts = await series(webs[0], 'tickforge_bars_cache_requests_total', { tier: 'memory', result: 'hit' });
      return [...counts.values()].reduce((sum, value) => sum + value, 0);
    };
    const before = await Promise.all(webs.map((web) => get(web, query)));
    const hits = await memoryHits();
    for (const web of webs) expect((await get(web, query)).body).to.deep.equal(before[0].body);
    expect(await memoryHits()).to.equal(hits + webs.length);

    // Another process (a worker, say) bumps XPC: both web processes drop their copies at once.
    // Each web process's own bytes in memory, by instance.
    const memoryBytes = () => series(webs[0], 'tickforge_bars_cache_bytes', { tier: 'memory' });
    // Own figures reach the scrape when each process publishes them: wait for both to show their copies.
    const held = await eventually(
      async () => {
        const bytes = await memoryBytes();
        return bytes.size === webs.length && [...bytes.values()].every((value) => value > 0) && bytes;
      },
      'both web processes to report the answers they hold',
      20_000,
      100,
    );
    await new BarsCache(system.redis, system.config.prefix).bump('XPC', '1d');
    await eventually(
      async () => [...(await memoryBytes())].every(([instance, bytes]) => bytes < held.get(instance)!),
      'both web processes to drop the answers of XPC',
      20_000,
      50,
    );

    // The 2017-01-03 bar trades 1,000 shares more: right after the job, both processes answer with it.
    const edited = spyDaily('2017-01-01', (line) => {
      if (!line.startsWith('2017-01-03')) return line;
      const fields = line.split(',');
      fields[5] = String(Number(fields[5]) + 1_000);
      return fields.join(',');
    });
    await Promise.all(webs.map((web) => get(web, query)));
    await system.run('import-bars', { csv: edited.split('\n').slice(0, 30).join('\n'), symbol: 'XPC', timeframe: '1d' });
    for (const web of webs) expect((await get(web, query)).body.bars[0].volume).to.equal(before[0].body.bars[0].volume + 1_000);
  });

  it('should keep its Redis entries within the budget whatever distinct queries a read token sends, and the queues keep working', async () => {
    const used = async () => Number((await system.redis.get(`${system.config.prefix}:bars-cache:used`)) ?? 0);
    const measured = async () => {
      const keys = [`${system.config.prefix}:bars-cache:index`, `${system.config.prefix}:bars-cache:sizes`];
      let cursor = '0';
      do {
        const [next, found] = await system.redis.scan(
          cursor,
          'MATCH',
          `${system.config.prefix}:bars-cache:answer:*`,
          'COUNT',
          500,
        );
        cursor = next;
        keys.push(...found);
      } while (cursor !== '0');
      const sizes = await Promise.all(keys.map((key) => system.redis.memory('USAGE', key)));
      return sizes.reduce<number>((sum, size) => sum + (size ?? 0), 0);
    };
    // About 1,500 daily bars (~170 kB) per answer, each a distinct query: uncapped, they would
    // need several times the Redis headroom.
    const sessions = spyDaily('2016-01-04')
      .split('\n')
      .slice(1, 121)
      .map((line) => line.slice(0, 10));
    let biggest = 0;
    for (const [i, from] of sessions.entries()) {
      const answer = await get(webs[i % 2], { symbol: 'SPYD', timeframe: '1d', from }, TEST_READ_TOKEN);
      expect(answer.status).to.equal(200);
      biggest = Math.max(biggest, JSON.stringify(answer.body).length);
      expect(await used()).to.be.at.most(CACHE_BUDGET_BYTES);
    }
    expect(biggest * sessions.length).to.be.greaterThan(2 * REDIS_HEADROOM_BYTES);
    expect(await used()).to.be.greaterThan(CACHE_BUDGET_BYTES / 2);
    expect(await measured()).to.be.at.most(CACHE_BUDGET_BYTES);
    const { result } = await system.run('import-bars', { csv: spyDaily('2020-01-01'), symbol: 'AFTER', timeframe: '1d' });
    expect(result.written).to.be.greaterThan(0);
  });
});

describe('bars cache: a per-token limit on computed answers', function () {
  let system: TestSystem;
  let web: WebServer;

  before(async () => {
    system = await TestSystem.create({ cacheMissRateLimit: 3 });
    await system.startWorker();
    web = await startWebServer(system.config, createLogger('test-web', 'silent'), '127.0.0.1');
    await system.run('import-bars', { csv: spyDaily('2020-01-01'), symbol: 'LIM', timeframe: '1d' });
  });

  after(async () => {
    await web.close();
    await system.close();
  });

  it('should answer 429 with Retry-After when a token had its computed answers this minute, and keep serving cached ones', async () => {
    const get = (from: string, token: string, format?: string) =>
      fetch(
        `${web.url}/api/bars?${new URLSearchParams({ symbol: 'LIM', timeframe: '1d', from, ...(format ? { format } : {}) })}`,
        {
          headers: { authorization: `Bearer ${token}` },
        },
      );
    for (const from of ['2020-02-03', '2020-02-04', '2020-02-05'])
      expect((await get(from, TEST_READ_TOKEN)).status).to.equal(200);
    const refused = await get('2020-02-06', TEST_READ_TOKEN);
    expect(refused.status).to.equal(429);
    expect(Number(refused.headers.get('retry-after'))).to.be.within(1, 60);
    expect(((await refused.json()) as { error: string }).error).to.match(/3 bars answers computed in the last minute/);
    expect((await get('2020-02-06', TEST_READ_TOKEN, 'csv')).status).to.equal(429);
    expect((await get('2020-02-03', TEST_READ_TOKEN)).status).to.equal(200);
    // Another token has its own allowance.
    expect((await get('2020-02-06', TEST_TOKEN)).status).to.equal(200);
  });
});
