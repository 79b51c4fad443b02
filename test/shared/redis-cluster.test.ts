import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { Cluster } from 'ioredis';
import type { Knex } from '../../src/shared/db.js';
import { loadConfig } from '../../src/shared/config.js';
import { createRedis, closeRedis } from '../../src/shared/redis.js';
import { SHY_1MIN, SPY_1MIN, dataFile } from '../helpers/data.js';
import { TestRedisCluster } from '../helpers/redis-cluster.js';
import { TestSystem } from '../helpers/system.js';

/** A digest of every row of a table, in key order: equal digests, equal rows. */
async function digest(db: Knex, schema: string, table: string, order: string): Promise<{ rows: number; md5: string }> {
  const { rows } = await db.raw<{ rows: Array<{ rows: string; md5: string }> }>(
    `SELECT count(*) AS rows, md5(coalesce(string_agg(t::text, '|' ORDER BY ${order}), '')) AS md5 FROM ??.?? t`,
    [schema, table],
  );
  return { rows: Number(rows[0].rows), md5: rows[0].md5 };
}

/** Imports, aggregates and generates a scenario: the demo's work that writes rows. */
async function demoWork(system: TestSystem): Promise<void> {
  await system.run('import-bars', { file: dataFile(SPY_1MIN), symbol: 'SPY', timeframe: '1m' }, 180_000);
  await system.run('import-bars', { file: dataFile(SHY_1MIN), symbol: 'SHY', timeframe: '1m' }, 180_000);
  await system.run('aggregate-bars', { symbols: ['SPY', 'SHY'] }, 180_000);
  await system.run('generate-scenario', { scenario: 'crash_2020', count: 2, seed: 7, sessions: 60 }, 180_000);
}

const BAR_ORDER = 'symbol, timeframe, variant, ts';

describe('Redis Cluster', function () {
  this.timeout(600_000);
  let cluster: TestRedisCluster;

  before(async () => {
    cluster = await TestRedisCluster.start();
  });

  after(async () => {
    await cluster?.stop();
  });

  const clustered = (overrides: Parameters<typeof TestSystem.create>[0] = {}) =>
    TestSystem.create({
      redisClusterNodes: cluster.seeds,
      prefix: `{tfc-${randomBytes(4).toString('hex')}}`,
      ...overrides,
    });

  it('should refuse a namespace without a hash tag when cluster nodes are set, naming the variable', () => {
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7000', TICKFORGE_PREFIX: 'tickforge' })).to.throw(
      /TICKFORGE_PREFIX="tickforge": must carry a hash tag such as \{tickforge\}/,
    );
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: 'localhost' })).to.throw(/REDIS_CLUSTER_NODES="localhost": must be/);
    expect(loadConfig({ REDIS_CLUSTER_NODES: 'a:7000,b:7001', TICKFORGE_PREFIX: '{tickforge}' }).redisClusterNodes).to.deep.equal(
      ['a:7000', 'b:7001'],
    );
  });

  it('should run import, aggregation, a scenario and an end-of-day pipeline on the cluster with the same rows as on one Redis', async () => {
    const single = await TestSystem.create();
    const onCluster = await clustered();
    try {
      expect(onCluster.redis).to.be.instanceOf(Cluster);
      await single.startWorker();
      await onCluster.startWorker();
      await demoWork(single);
      await demoWork(onCluster);
      for (const date of ['2018-02-07']) {
        await single.run('eod-pipeline', { date }, 300_000);
        await onCluster.run('eod-pipeline', { date }, 300_000);
      }

      const bars = [
        await digest(single.db, single.config.dbSchema, 'bars', BAR_ORDER),
        await digest(onCluster.db, onCluster.config.dbSchema, 'bars', BAR_ORDER),
      ];
      expect(bars[0].rows).to.be.greaterThan(1_000);
      expect(bars[1]).to.deep.equal(bars[0]);
      const sandbox = [
        await digest(single.db, single.config.sandboxSchema, 'bars', BAR_ORDER),
        await digest(onCluster.db, onCluster.config.sandboxSchema, 'bars', BAR_ORDER),
      ];
      expect(sandbox[0].rows).to.be.greaterThan(0);
      expect(sandbox[1]).to.deep.equal(sandbox[0]);
      const history = async (system: TestSystem) =>
        (await system.db('job_history').select('name', 'outcome')).map((row) => `${row.name}:${row.outcome}`).sort();
      expect(await history(onCluster)).to.deep.equal(await history(single));

      // The namespace's stream lives on the cluster and carries the deployment's events.
      const stream = await onCluster.redis.xlen(onCluster.config.eventStream);
      expect(stream).to.be.greaterThan(0);
    } finally {
      await onCluster.close();
      await single.close();
    }
  });

  it('should complete every job exactly once when the master of the namespace fails over during a batch', async () => {
    const system = await clustered({ lockDurationMs: 5_000, stalledIntervalMs: 2_000 });
    const watcher = createRedis(system.config, 'worker', 'tickforge-test-watch');
    try {
      await system.startWorker({ workerConcurrency: 4 });
      const symbols = Array.from({ length: 60 }, (_, i) => `F${String(i).padStart(3, '0')}`);
      const rows = (base: number) =>
        [
          'ts,open,high,low,close,volume',
          ...Array.from({ length: 30 }, (_, i) => {
            const ts = new Date(Date.UTC(2018, 1, 7, 14, 30 + i)).toISOString();
            const price = base + i / 100;
            return `${ts},${price},${price + 0.05},${price - 0.05},${price + 0.01},${100 + i}`;
          }),
        ].join('\n');
      const ids: string[] = [];
      for (const [i, symbol] of symbols.entries()) {
        if (i === 20) {
          // A third of the batch is in, the rest arrives during and after the failover.
          const { promoted, killed } = await cluster.failOver(`${system.config.prefix}:ingest:id`);
          expect(promoted).to.not.equal(killed);
        }
        for (;;) {
          try {
            ids.push((await system.producer.enqueue('import-bars', { csv: rows(10 + i), symbol, timeframe: '1m' })).id);
            break;
          } catch (error) {
            // The producer fails fast while the slot moves, as the API's 503 does; the caller retries.
            if (!/cluster|connection|closed|ready|MOVED|TRYAGAIN|CLUSTERDOWN|timeout/i.test((error as Error).message))
              throw error;
            await new Promise((resolve) => setTimeout(resolve, 250));
          }
        }
      }
      await cluster.untilHealthy();
      await system.waitForCompleted('ingest', ids, 300_000);

      const stored = await system
        .db('bars')
        .select('symbol')
        .count<Array<{ symbol: string; count: string }>>({ count: '*' })
        .groupBy('symbol');
      expect(stored.map((row) => row.symbol).sort()).to.deep.equal(symbols);
      for (const row of stored) expect(Number(row.count), row.symbol).to.equal(30);
      const finished = await system.db('job_history').where({ name: 'import-bars', outcome: 'completed' }).select('job_id');
      expect(finished).to.have.length(symbols.length);
      expect(new Set(finished.map((row) => row.job_id)).size).to.equal(symbols.length);
      expect(await watcher.ping()).to.equal('PONG');
    } finally {
      await closeRedis(watcher);
      await system.close();
    }
  });
});
