import { expect } from 'chai';
import { startWebServer, type WebServer } from '../../src/api/server.js';
import { type EventEnvelope } from '../../src/notify/channels.js';
import { Publisher } from '../../src/notify/publisher.js';
import { HEARTBEAT_TTL_MS, liveWorkers } from '../../src/queues/heartbeat.js';
import { activeQueues } from '../../src/queues/registry.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { createLogger } from '../../src/shared/logger.js';
import { closeRedis, createRedis, type RedisClient } from '../../src/shared/redis.js';
import type { WorkerRuntime } from '../../workers/runtime.js';
import { cli } from '../helpers/cli.js';
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

/** A GET with the test token: the parsed body for JSON, the text otherwise. */
async function get(deployment: Deployment, route: string): Promise<unknown> {
  const response = await fetch(`${deployment.web.url}${route}`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
  expect(response.status, route).to.equal(200);
  return response.headers.get('content-type')?.includes('json') ? response.json() : response.text();
}

/** A sample of /metrics by name and labels, such as `tickforge_queue_workers{queue="sync"}`. */
async function metric(deployment: Deployment, sample: string): Promise<number | undefined> {
  const text = (await get(deployment, '/metrics')) as string;
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

/** `tickforge queues --json` run against a deployment's namespace: each queue's completed jobs and workers. */
async function cliQueues(deployment: Deployment): Promise<Map<string, { completed: number; workers: string[] }>> {
  const run = await cli(deployment.system.config, ['queues', '--json']);
  expect(run.code, run.stderr).to.equal(0);
  const { queues } = JSON.parse(run.stdout) as { queues: Array<{ queue: string; completed: number; workers: string[] }> };
  return new Map(queues.map((queue) => [queue.queue, queue]));
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

  it('should show in Bull Board, /metrics and tickforge queues only the jobs, queues and workers of its own deployment', async () => {
    // Different numbers of probes in each deployment's system queue tell their counts apart.
    const probes = new Map([
      [first, 3],
      [second, 5],
    ]);
    for (const [{ system }, count] of probes) {
      const ids = [];
      for (let i = 0; i < count; i++) ids.push((await system.producer.enqueue('noop', {})).id);
      await system.waitForCompleted('system', ids);
    }
    for (const [own, date, otherDate] of [
      [first, '2018-02-07', '2018-02-08'],
      [second, '2018-02-08', '2018-02-07'],
    ] as const) {
      const board = (await get(own, '/admin/queues/api/queues?activeQueue=sync&status=completed')) as {
        queues: Array<{ name: string; counts: Record<string, number>; jobs: Array<{ id: string }> }>;
      };
      expect(board.queues.map((queue) => queue.name).sort()).to.deep.equal([...activeQueues()].sort());
      expect(board.queues.find((queue) => queue.name === 'system')!.counts.completed).to.equal(probes.get(own));
      const syncJobs = board.queues.find((queue) => queue.name === 'sync')!.jobs.map((job) => job.id);
      expect(syncJobs).to.include(`eod-${date}`);
      expect(syncJobs).to.not.include(`eod-${otherDate}`);

      expect(await metric(own, 'tickforge_queue_jobs{queue="system",state="completed"}')).to.equal(probes.get(own));
      expect(await metric(own, 'tickforge_queue_workers{queue="system"}')).to.equal(1);

      const queues = await cliQueues(own);
      expect(queues.get('system')!.completed).to.equal(probes.get(own));
      expect(queues.get('system')!.workers).to.deep.equal([own.worker.id]);
      expect(queues.get('sync')!.workers).to.have.length(1);
    }
  });

  it('should count in its health, tickforge queues and /metrics only the live workers of its own deployment', async () => {
    for (const deployment of [first, second]) {
      const workers = await health(deployment);
      expect(workers.find((entry) => entry.queue === 'sync')!.workers).to.equal(1);
      expect(workers.find((entry) => entry.queue === 'ingest')!.workers).to.equal(1);
    }
    await second.worker.stop();
    expect((await health(second)).every((entry) => entry.workers === 0)).to.equal(true);
    expect((await health(first)).find((entry) => entry.queue === 'sync')!.workers).to.equal(1);
    expect([...(await cliQueues(second)).values()].every((queue) => queue.workers.length === 0)).to.equal(true);
    expect((await cliQueues(first)).get('sync')!.workers).to.have.length(1);
    expect(await metric(second, 'tickforge_queue_workers{queue="sync"}')).to.equal(0);
    expect(await metric(first, 'tickforge_queue_workers{queue="sync"}')).to.equal(1);
    const report = await cli(second.system.config, ['health', '--json']);
    const { queues } = JSON.parse(report.stdout) as { queues: Array<{ queue: string; workers: string[] }> };
    expect(queues.every((queue) => queue.workers.length === 0)).to.equal(true);
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
