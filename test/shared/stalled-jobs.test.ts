import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Worker } from 'bullmq';
import { channelName, type EventEnvelope } from '../../src/notify/channels.js';
import { closeRedis, createRedis, type RedisClient } from '../../src/shared/redis.js';
import { TestSystem } from '../helpers/system.js';
import { eventually, waitForEvent } from '../helpers/wait.js';

describe('jobs that stall too often', function () {
  this.timeout(60_000);
  let system: TestSystem;
  let subscriber: RedisClient;
  let crashing: Worker;
  let connection: RedisClient;

  before(async () => {
    system = await TestSystem.create();
    subscriber = createRedis(system.config, 'subscriber');
    await subscriber.subscribe(channelName('advancedError', system.config.prefix));
    connection = createRedis(system.config, 'worker');
    // A worker that takes jobs and never renews their locks: what a worker killed with -9 leaves.
    crashing = new Worker('system', null, {
      connection,
      prefix: system.config.prefix,
      lockDuration: 500,
      stalledInterval: 300,
      maxStalledCount: 1,
      autorun: false,
    });
  });

  after(async () => {
    await crashing.close();
    await closeRedis(connection);
    await closeRedis(subscriber);
    await system.close();
  });

  it('should record a job that stalled more than the allowed times in job_history and announce it on advanced.error', async () => {
    const jobId = `stall-${randomBytes(4).toString('hex')}`;
    await system.producer.enqueue('noop', {}, { jobId });
    void crashing.startStalledCheckTimer();
    for (let crash = 0; crash < 2; crash++) {
      const stalled = waitForEvent<[string]>(crashing, 'stalled', (id) => id === jobId);
      const taken = await crashing.getNextJob(`crashed-${crash}`);
      expect(taken?.id).to.equal(jobId);
      await stalled;
    }
    await crashing.close();

    const announced = waitForEvent<[string, string]>(subscriber, 'message', (channel, message) => {
      return channel === channelName('advancedError', system.config.prefix) && (JSON.parse(message) as EventEnvelope<unknown>).correlation_id === jobId;
    });
    await system.startWorker();
    const [, message] = await announced;
    expect((JSON.parse(message) as EventEnvelope<{ reason: string }>).data.reason).to.match(/stalled more than allowable limit/);
    const row = await eventually(
      async () => (await system.db('job_history').where({ job_id: jobId }).first()) as { outcome: string; error: string } | undefined,
      'the job_history row',
    );
    expect(row).to.include({ outcome: 'failed' });
    expect(row.error).to.match(/stalled more than allowable limit/);
    expect(await system.producer.queue('system').getJobState(jobId)).to.equal('failed');
  });
});
