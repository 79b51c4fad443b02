import { expect } from 'chai';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/shared/config.js';
import { enqueueImportsAround, expectImportedOnce } from '../helpers/import-batch.js';
import { SENTINEL_MASTER_NAME, TestRedisSentinel } from '../helpers/redis-sentinel.js';
import { TestSystem } from '../helpers/system.js';
import { eventually } from '../helpers/wait.js';

/** The port of the server a single-server connection is connected to now. */
const connectedPort = (redis: unknown) => (redis as Redis).stream?.remotePort;

describe('Redis Sentinel', function () {
  this.timeout(300_000);
  let sentinel: TestRedisSentinel;

  before(async () => {
    sentinel = await TestRedisSentinel.start();
  });

  after(async () => {
    await sentinel?.stop();
  });

  it('should read the sentinels and the master name, and refuse them together with cluster nodes', () => {
    const config = loadConfig({ REDIS_SENTINELS: 'a:26379,b:26380', REDIS_SENTINEL_NAME: 'primary' });
    expect(config.redisSentinels).to.deep.equal(['a:26379', 'b:26380']);
    expect(config.redisSentinelName).to.equal('primary');
    expect(loadConfig({}).redisSentinelName).to.equal('mymaster');
    expect(() => loadConfig({ REDIS_SENTINELS: 'a' })).to.throw(/REDIS_SENTINELS="a": must be a comma-separated list/);
    expect(() =>
      loadConfig({ REDIS_SENTINELS: 'a:26379', REDIS_CLUSTER_NODES: 'b:7000', TICKFORGE_PREFIX: '{tickforge}' }),
    ).to.throw(/REDIS_SENTINELS: set together with REDIS_CLUSTER_NODES/);
  });

  it('should complete every job exactly once when the sentinels fail the master over during a batch', async () => {
    const master = await sentinel.masterPort();
    const system = await TestSystem.create({ redisSentinels: sentinel.addresses, redisSentinelName: SENTINEL_MASTER_NAME });
    try {
      // Connected where the sentinels say, not to REDIS_URL.
      expect(connectedPort(system.redis)).to.equal(master);
      await system.startWorker();
      const symbols = Array.from({ length: 30 }, (_, i) => `S${String(i).padStart(3, '0')}`);
      let promoted = 0;
      const ids = await enqueueImportsAround(system, symbols, 10, async () => {
        const failover = await sentinel.failOver();
        expect(failover.demoted).to.equal(master);
        promoted = failover.promoted;
      });
      await system.waitForCompleted('ingest', ids, 120_000);
      await expectImportedOnce(system, symbols, ids);
      expect(connectedPort(system.redis)).to.equal(promoted);
      // The worker follows too: a job enqueued on the new master runs.
      expect((await system.run('noop', {}, 30_000)).result.ok).to.equal(true);
      await eventually(async () => (await system.redis.role())[0] === 'master', 'the connection to be on a master');
    } finally {
      await system.close();
    }
  });
});
