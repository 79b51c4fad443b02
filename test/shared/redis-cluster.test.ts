import { expect } from 'chai';
import { Cluster } from 'ioredis';
import type { Knex } from '../../src/shared/db.js';
import { startWebServer } from '../../src/api/server.js';
import { loadConfig } from '../../src/shared/config.js';
import { createLogger } from '../../src/shared/logger.js';
import { createRedis, closeRedis } from '../../src/shared/redis.js';
import { TEST_TOKEN } from '../helpers/config.js';
import { SHY_1MIN, SPY_1MIN, dataFile } from '../helpers/data.js';
import { enqueueImportsAround, expectImportedOnce } from '../helpers/import-batch.js';
import { TestRedisCluster } from '../helpers/redis-cluster.js';
import { TestSystem } from '../helpers/system.js';
import { eventually } from '../helpers/wait.js';

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

/** The routes polled through a failover, with their answer when all is well: one reads a job, one enqueues, one reads every queue. */
const POLLED_ROUTES = (jobRoute: string): Array<{ route: string; ok: number; init?: RequestInit }> => [
  { route: jobRoute, ok: 200 },
  { route: '/api/jobs/noop', ok: 202, init: { method: 'POST', body: '{}' } },
  { route: '/api/system/health', ok: 200 },
];

type PolledAnswer = { route: string; ok: number; status: number; retryAfter: string | null; at: string };

/** Every answer was the route's usual one, or 503 with Retry-After: never an error of the API's own. */
function expectUsualOr503(answers: readonly PolledAnswer[]): void {
  for (const answer of answers) {
    expect([answer.ok, 503], `${answer.route} at ${answer.at}`).to.include(answer.status);
    if (answer.status === 503) expect(answer.retryAfter, answer.route).to.equal('5');
  }
}

/** Polls API routes in a loop, one request at a time, until stopped; at most 10 minutes. */
class ApiPoller {
  private readonly answers: PolledAnswer[] = [];
  private running?: Promise<void>;
  private stopped = false;

  constructor(private readonly url: string) {}

  private async ask({ route, ok, init }: ReturnType<typeof POLLED_ROUTES>[number]): Promise<PolledAnswer> {
    const response = await fetch(`${this.url}${route}`, {
      ...init,
      headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
    });
    await response.arrayBuffer();
    return { route, ok, status: response.status, retryAfter: response.headers.get('retry-after'), at: new Date().toISOString() };
  }

  /** Whether every polled route answers as when all is well, now. */
  async allWell(jobRoute: string): Promise<boolean> {
    const answers = await Promise.all(POLLED_ROUTES(jobRoute).map((route) => this.ask(route)));
    return answers.every((answer) => answer.status === answer.ok);
  }

  start(jobRoute: string): void {
    const deadline = Date.now() + 600_000;
    this.running = (async () => {
      while (!this.stopped && Date.now() < deadline) {
        for (const route of POLLED_ROUTES(jobRoute)) this.answers.push(await this.ask(route));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
  }

  async stop() {
    this.stopped = true;
    await this.running;
    return this.answers;
  }
}

describe('Redis Cluster', function () {
  this.timeout(600_000);
  let cluster: TestRedisCluster;

  before(async () => {
    cluster = await TestRedisCluster.start();
  });

  after(async () => {
    await cluster?.stop();
  });

  const clustered = async (overrides: Parameters<typeof TestSystem.create>[0] = {}) =>
    TestSystem.create({
      redisClusterNodes: cluster.seeds,
      prefix: await cluster.replicatedNamespace('tfc'),
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

  it('should complete every job exactly once, and answer 200 or 503 from the API, when the master of the namespace fails over during a batch', async () => {
    const system = await clustered({ lockDurationMs: 5_000, stalledIntervalMs: 2_000 });
    const watcher = createRedis(system.config, 'worker', 'tickforge-test-watch');
    const web = await startWebServer(system.config, createLogger('test-web', 'silent'), '127.0.0.1');
    const api = new ApiPoller(web.url);
    try {
      await system.startWorker({ workerConcurrency: 4 });
      const symbols = Array.from({ length: 60 }, (_, i) => `F${String(i).padStart(3, '0')}`);
      const ids = await enqueueImportsAround(system, symbols, 20, async (enqueued) => {
        // A third of the batch is in, the rest arrives during and after the failover.
        api.start(`/api/jobs/ingest/${enqueued[0]}`);
        const { promoted, killed } = await cluster.failOver(`${system.config.prefix}:ingest:id`);
        expect(promoted).to.not.equal(killed);
        // The API comes back by itself, without a restart, soon after the old master is gone.
        await eventually(() => api.allWell(`/api/jobs/ingest/${enqueued[0]}`), 'the API to answer as usual again', 30_000, 250);
      });
      await cluster.untilHealthy();
      await system.waitForCompleted('ingest', ids, 300_000);

      await expectImportedOnce(system, symbols, ids);
      expect(await watcher.ping()).to.equal('PONG');

      // Through the failover the API answered as usual or 503 with Retry-After, never an error of its own.
      const answers = await api.stop();
      expect(answers.length).to.be.greaterThan(0);
      expectUsualOr503(answers);
    } finally {
      await api.stop().catch(() => undefined);
      await web.close();
      await closeRedis(watcher);
      await system.close();
    }
  });

  it('should answer 503 with Retry-After while the master of the namespace is down, and recover by itself once its replica takes over', async () => {
    const system = await clustered();
    const web = await startWebServer(system.config, createLogger('test-web', 'silent'), '127.0.0.1');
    const api = new ApiPoller(web.url);
    try {
      await system.startWorker();
      const { id } = await system.run('noop', {});
      const jobRoute = `/api/jobs/system/${id}`;
      expect(await api.allWell(jobRoute)).to.equal(true);
      api.start(jobRoute);
      // No graceful handover: the namespace's slot is down until the cluster promotes the replica.
      await cluster.killMaster(system.config.prefix);
      await eventually(() => api.allWell(jobRoute), 'the API to answer as usual again', 30_000, 250);
      const answers = await api.stop();
      expectUsualOr503(answers);
      expect(
        answers.filter((answer) => answer.status === 503),
        'answers while the slot was down',
      ).to.not.be.empty;
      // Jobs enqueued after the recovery run as before.
      expect((await system.run('noop', {}, 30_000)).result.ok).to.equal(true);
    } finally {
      await api.stop().catch(() => undefined);
      await web.close();
      await system.close();
    }
  });
});
