import { expect } from 'chai';
import { startWebServer, type WebServer } from '../../src/api/server.js';
import { type EventEnvelope } from '../../src/notify/channels.js';
import { Publisher } from '../../src/notify/publisher.js';
import { HEARTBEAT_TTL_MS, liveWorkers } from '../../src/queues/heartbeat.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { createLogger } from '../../src/shared/logger.js';
import { closeRedis, createRedis, type RedisClient } from '../../src/shared/redis.js';
import type { WorkerRuntime } from '../../workers/runtime.js';
import { TEST_TOKEN } from '../helpers/config.js';
import { TestSystem } from '../helpers/system.js';
import { eventually } from '../helpers/wait.js';

/** One deployment: its schema and namespace, a worker, a scheduler and a web process. */
interface Deployment {
  system: TestSystem;
  worker: WorkerRuntime;
  scheduler: Scheduler;
  web: WebServer;
  /** Every message heard on any of the deployment's channels. */
  heard: Array<{ channel: string; envelope: EventEnvelope }>;
  listener: RedisClient;
}

const logger = createLogger('test-isolation', 'silent');

async function deploy(): Promise<Deployment> {
  const system = await TestSystem.create();
  const worker = await system.startWorker();
  const scheduler = await Scheduler.start(system.config, logger);
  const web = await startWebServer(system.config, logger, '127.0.0.1');
  const listener = createRedis(system.config, 'subscriber', 'tickforge-test-listener');
  const heard: Deployment['heard'] = [];
  listener.on('message', (channel: string, message: string) => {
    heard.push({ channel, envelope: JSON.parse(message) as EventEnvelope });
  });
  await listener.subscribe(...Object.values(system.channels));
  return { system, worker, scheduler, web, heard, listener };
}

async function health(deployment: Deployment): Promise<Array<{ queue: string; workers: number }>> {
  const response = await fetch(`${deployment.web.url}/api/system/health`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
  expect(response.status).to.equal(200);
  return ((await response.json()) as { workers: Array<{ queue: string; workers: number }> }).workers;
}

const streamChannels = async (system: TestSystem) =>
  (await system.redis.xrange(system.config.eventStream, '-', '+')).map(([, fields]) => fields[fields.indexOf('channel') + 1]);

describe('deployments sharing one Redis server', function () {
  let first: Deployment;
  let second: Deployment;

  before(async () => {
    first = await deploy();
    second = await deploy();
  });

  after(async () => {
    for (const deployment of [first, second]) {
      if (!deployment) continue;
      await closeRedis(deployment.listener);
      await deployment.web.close();
      await deployment.scheduler.stop();
      await deployment.system.close();
    }
  });

  it('should start exactly one pipeline, in the deployment an eod_complete signal is meant for', async () => {
    const signal = async (deployment: Deployment, date: string) => {
      const { system } = deployment;
      const publisher = new Publisher(system.redis, {
        service: 'test',
        prefix: system.config.prefix,
        stream: system.config.eventStream,
        streamMaxLen: 1_000,
      });
      await publisher.publish('eodComplete', { trading_date: date }, null);
    };
    await signal(first, '2018-02-07');
    await signal(second, '2018-02-08');
    await first.system.waitForCompleted('sync', ['eod-2018-02-07'], 240_000);
    await second.system.waitForCompleted('sync', ['eod-2018-02-08'], 240_000);

    for (const [own, other, date, otherDate] of [
      [first, second, '2018-02-07', '2018-02-08'],
      [second, first, '2018-02-08', '2018-02-07'],
    ] as const) {
      const { system } = own;
      const pipelines = await system.db('job_history').where({ name: 'eod-pipeline' }).select('job_id');
      expect(pipelines.map((row) => row.job_id)).to.deep.equal([`eod-${date}`]);
      expect(await system.producer.queue('sync').getJob(`eod-${otherDate}`)).to.equal(undefined);
      const runs = await system.db.raw<{ rows: Array<{ date: string }> }>(
        `SELECT to_char(trading_date, 'YYYY-MM-DD') AS date FROM sync_runs`,
      );
      expect(runs.rows.map((row) => row.date)).to.deep.equal([date]);

      // Each listener heard its own deployment's events only: none caused by the other's pipeline.
      const ownChannels = new Set(Object.values(system.channels));
      expect(own.heard.length).to.be.greaterThan(0);
      for (const { channel, envelope } of own.heard) {
        expect(ownChannels.has(channel), channel).to.equal(true);
        expect(envelope.correlation_id ?? '').not.to.include(`eod-${otherDate}`);
      }
      const statuses = own.heard.filter(({ channel }) => channel === system.channels.automationStatus);
      expect(statuses).to.not.be.empty;
      for (const { envelope } of statuses) expect((envelope.data as { date: string }).date).to.equal(date);
      const streamed = await streamChannels(system);
      expect(streamed).to.include(system.channels.eodComplete);
      for (const channel of streamed) expect(ownChannels.has(channel), channel).to.equal(true);
      const otherChannels = new Set(Object.values(other.system.channels));
      for (const channel of streamed) expect(otherChannels.has(channel)).to.equal(false);
    }
  });

  it('should count in its health only the live workers of its own deployment', async () => {
    for (const deployment of [first, second]) {
      const workers = await health(deployment);
      expect(workers.find((entry) => entry.queue === 'sync')!.workers).to.equal(1);
      expect(workers.find((entry) => entry.queue === 'ingest')!.workers).to.equal(1);
    }
    await second.worker.stop();
    expect((await health(second)).every((entry) => entry.workers === 0)).to.equal(true);
    expect((await health(first)).find((entry) => entry.queue === 'sync')!.workers).to.equal(1);
  });

  it('should drop a worker that died without stopping once its heartbeat expires', async () => {
    const { redis, config } = first.system;
    await eventually(
      async () => (await liveWorkers(redis, config.prefix)).length === 1,
      'the first deployment to have one worker',
    );
    expect(await liveWorkers(redis, config.prefix, Date.now() + HEARTBEAT_TTL_MS + 1)).to.deep.equal([]);
  });
});
