import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import type { Config } from '../../src/shared/config.js';
import { BarsRepository } from '../../src/bars/bars.repository.js';
import { TEST_TOKEN } from '../helpers/config.js';
import { PrivatePostgres } from '../helpers/postgres.js';
import { startProcess, type TestProcess } from '../helpers/process.js';
import { TestSystem } from '../helpers/system.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { eventually, waitForEvent } from '../helpers/wait.js';

const serving = (line: { msg?: string }) => /serving/.test(line.msg ?? '');
const listening = (line: { msg?: string }) => /web listening on/.test(line.msg ?? '');

/** A CSV of `rows` valid minute bars starting at `start`. */
function minuteBars(rows: number, start: number): string {
  const lines = ['ts,open,high,low,close,volume'];
  for (let i = 0; i < rows; i++) {
    const price = 50 + ((i * 7) % 300) / 100;
    lines.push(`${new Date(start + i * 60_000).toISOString()},${price},${price + 0.1},${price - 0.1},${price},${100 + (i % 13)}`);
  }
  return lines.join('\n');
}

describe('faults', function () {
  this.timeout(180_000);
  let system: TestSystem;
  let dir: string;
  const processes: TestProcess[] = [];
  const start = (entry: 'worker' | 'web' | 'scheduler', config: Config = system.config, env: NodeJS.ProcessEnv = {}) => {
    const child = startProcess(entry, config, [], env);
    processes.push(child);
    return child;
  };

  before(async () => {
    system = await TestSystem.create();
    dir = await mkdtemp(path.join(os.tmpdir(), 'tickforge-faults-'));
  });

  afterEach(async () => {
    await Promise.all(processes.splice(0).map((child) => child.stop('SIGKILL')));
  });

  after(async () => {
    await system.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** The job_history rows of the given jobs of a queue. */
  const historyRows = (on: TestSystem, queue: string, jobs: Array<{ id: string }>) =>
    on
      .db('job_history')
      .whereIn(
        'job_id',
        jobs.map((job) => job.id),
      )
      .andWhere('queue', queue);

  /** Writes `count` import files of `rows` bars each for distinct symbols and enqueues their imports. */
  async function enqueueImports(on: TestSystem, stem: string, count: number, rows: number) {
    const jobs = [];
    for (let i = 0; i < count; i++) {
      const file = path.join(dir, `${stem}-${i}.csv`);
      await writeFile(file, minuteBars(rows, Date.parse('2022-03-01T14:30:00Z')));
      jobs.push(await on.producer.enqueue('import-bars', { file, symbol: `${stem.toUpperCase()}${i}`, timeframe: '1m' }));
    }
    return jobs;
  }

  it('should finish every job of a batch after kill -9 of a worker, with the row counts of an undisturbed run', async () => {
    const victim = start('worker', system.config, { TICKFORGE_WORKER_CONCURRENCY: '2' });
    const survivor = start('worker', system.config, { TICKFORGE_WORKER_CONCURRENCY: '2' });
    await Promise.all([victim.waitForLine(serving), survivor.waitForLine(serving)]);
    const events = await system.events('ingest');
    const jobs = await enqueueImports(system, 'kill', 8, 40_000);
    // Kill the victim while it holds a job.
    await waitForEvent(events, 'progress', ({ jobId }: { jobId: string }) =>
      victim.lines.some((line) => line.job_id === jobId && /started/.test(line.msg ?? '')),
    );
    victim.child.kill('SIGKILL');
    await victim.exited;

    await system.waitForCompleted(
      'ingest',
      jobs.map((job) => job.id),
    );
    const bars = new BarsRepository(system.db, system.config.dbSchema);
    for (let i = 0; i < jobs.length; i++) expect(await bars.count({ symbol: `KILL${i}` })).to.equal(40_000);
    const history = await historyRows(system, 'ingest', jobs);
    expect(history).to.have.length(jobs.length);
    expect(history.every((row) => row.outcome === 'completed')).to.equal(true);
    expect(survivor.lines.some((line) => /stalled/.test(line.msg ?? ''))).to.equal(true);
  });

  it('should reconnect workers, scheduler and API by themselves after CLIENT KILL and complete the batch', async () => {
    // A proxy per process, so each one's connections can be listed, cut and seen to come back.
    const proxies = await Promise.all(Array.from({ length: 4 }, () => new TcpProxy('127.0.0.1', 6379).start()));
    const via = (proxy: TcpProxy): Config => ({ ...system.config, redisUrl: `redis://127.0.0.1:${proxy.port}` });
    const admin = new Redis(system.config.redisUrl);
    try {
      const workers = [start('worker', via(proxies[0])), start('worker', via(proxies[1]))];
      const web = start('web', via(proxies[2]));
      const scheduler = start('scheduler', via(proxies[3]));
      await Promise.all([...workers.map((worker) => worker.waitForLine(serving)), web.waitForLine(listening)]);
      await scheduler.waitForLine((line) => /upserted/.test(line.msg ?? ''));
      const url = /(http:\/\/[\d.:]+)/.exec(String((await web.waitForLine(listening)).msg))![1];

      const batch = await Promise.all(Array.from({ length: 30 }, () => system.producer.enqueue('noop', { waitMs: 300 })));
      const events = await system.events('system');
      await waitForEvent(events, 'completed');
      const acceptedBefore = proxies.map((proxy) => proxy.accepted);
      for (const proxy of proxies) {
        const ports = proxy.upstreamPorts();
        expect(ports, 'connections of a process').to.not.be.empty;
        let cut = 0;
        for (const port of ports) cut += Number(await admin.client('KILL', 'ADDR', `127.0.0.1:${port}`, 'SKIPME', 'yes'));
        expect(cut, 'connections Redis cut').to.equal(ports.length);
      }

      await system.waitForCompleted(
        'system',
        batch.map((job) => job.id),
      );
      await eventually(async () => {
        const response = await fetch(`${url}/api/jobs/noop`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
          body: '{}',
        });
        return response.status === 202;
      }, 'the API to enqueue again after CLIENT KILL');
      await eventually(
        async () => proxies.every((proxy, i) => proxy.accepted > acceptedBefore[i]),
        'every process to open new connections after CLIENT KILL',
      );
      for (const child of [...workers, web, scheduler]) expect((await child.stop('SIGTERM')).code).to.equal(0);
    } finally {
      admin.disconnect();
      await Promise.all(proxies.map((proxy) => proxy.close()));
    }
  });

  it('should let jobs fail their attempt, back off and succeed across a PostgreSQL restart, leaving nothing half-written', async () => {
    // A server of the test's own: restarting the shared one would break every other test using it.
    const postgres = await PrivatePostgres.start();
    const own = await TestSystem.create({ databaseUrl: postgres.url('tickforge_faults') });
    try {
      const worker = start('worker', own.config);
      await worker.waitForLine(serving);
      const events = await own.events('ingest');
      const jobs = await enqueueImports(own, 'pgrestart', 6, 60_000);
      await waitForEvent(events, 'progress');
      // Down long enough for attempts in flight to fail, then back: an operator's restart.
      await postgres.stop();
      await worker.waitForLine((line) => /will retry/.test(line.msg ?? ''));
      await postgres.start();
      await own.waitForCompleted(
        'ingest',
        jobs.map((job) => job.id),
        150_000,
      );
      const bars = new BarsRepository(own.db, own.config.dbSchema);
      for (let i = 0; i < jobs.length; i++) expect(await bars.count({ symbol: `PGRESTART${i}` })).to.equal(60_000);
      const history = await historyRows(own, 'ingest', jobs);
      expect(history.map((row) => row.outcome)).to.deep.equal(jobs.map(() => 'completed'));
      const retried = new Set(
        worker.lines.filter((line) => /will retry/.test(line.msg ?? '')).map((line) => String(line.job_id)),
      );
      expect(retried.size).to.be.greaterThan(0);
      for (const enqueued of jobs) {
        const job = (await own.producer.queue('ingest').getJob(enqueued.id))!;
        // The attempt that succeeded wrote every row itself: a failed attempt left none behind for it to find.
        expect(job.returnvalue, `job ${job.id}`).to.include({ written: 60_000, unchanged: 0 });
        if (retried.has(enqueued.id)) expect(job.attemptsMade, `attempts of retried job ${job.id}`).to.be.at.least(2);
      }
      expect((await worker.stop('SIGTERM')).code).to.equal(0);
    } finally {
      await own.close();
      await postgres.destroy();
    }
  });

  it('should answer 503 while Redis is unreachable and recover without a restart', async () => {
    const proxy = await new TcpProxy('127.0.0.1', 6379).start();
    const viaProxy: Config = { ...system.config, redisUrl: `redis://127.0.0.1:${proxy.port}` };
    try {
      const web = start('web', viaProxy);
      const url = /(http:\/\/[\d.:]+)/.exec(String((await web.waitForLine(listening)).msg))![1];
      const post = () =>
        fetch(`${url}/api/jobs/noop`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
          body: '{}',
        });
      expect((await post()).status).to.equal(202);

      proxy.block();
      const refused = await eventually(async () => {
        const response = await post();
        return response.status === 503 ? response : undefined;
      }, 'a 503 while Redis is away');
      expect(((await refused.json()) as { error: string }).error).to.match(/Redis is unreachable/);
      expect(refused.headers.get('retry-after')).to.equal('5');
      expect((await fetch(`${url}/readyz`)).status).to.equal(503);
      expect((await fetch(`${url}/healthz`)).status).to.equal(200);

      proxy.unblock();
      await eventually(async () => (await post()).status === 202, 'the API to accept jobs again', 30_000, 200);
      expect((await fetch(`${url}/readyz`)).status).to.equal(200);
      expect(web.child.exitCode).to.equal(null);
      expect((await web.stop('SIGTERM')).code).to.equal(0);
    } finally {
      await proxy.close();
    }
  });

  it('should see no stalled job while a CPU-heavy job runs next to many small ones', async () => {
    const worker = start('worker', system.config, { TICKFORGE_WORKER_CONCURRENCY: '8' });
    await worker.waitForLine(serving);
    // Ten symbols of a year of 1-minute bars aggregated to every timeframe: seconds of pool CPU.
    const heavy = await system.producer.enqueue('generate-scenario', {
      scenario: 'crash_2020',
      count: 10,
      seed: 11,
      sessions: 252,
      timeframe: '1m',
    });
    const small = await Promise.all(Array.from({ length: 200 }, () => system.producer.enqueue('noop', { cpuMs: 5 })));
    await system.waitForCompleted(
      'system',
      small.map((job) => job.id),
    );
    await system.waitForCompleted('scenario', [heavy.id], 180_000);
    expect(worker.lines.filter((line) => /stalled/.test(line.msg ?? ''))).to.deep.equal([]);
    expect((await worker.stop('SIGTERM')).code).to.equal(0);
  });

  it('should hand back or finish every job of a batch on SIGTERM and lose none', async () => {
    const worker = start('worker', system.config, { TICKFORGE_SHUTDOWN_TIMEOUT_MS: '1000' });
    await worker.waitForLine(serving);
    const events = await system.events('system');
    const batch = await Promise.all(
      Array.from({ length: 24 }, (_, i) => system.producer.enqueue('noop', { waitMs: i % 2 === 0 ? 200 : 2_000 })),
    );
    await waitForEvent(events, 'completed');
    expect((await worker.stop('SIGTERM')).code).to.equal(0);

    const next = start('worker');
    await next.waitForLine(serving);
    await system.waitForCompleted(
      'system',
      batch.map((job) => job.id),
    );
    const history = await historyRows(system, 'system', batch);
    expect(history.filter((row) => row.outcome === 'completed')).to.have.length(batch.length);
    const handedBack = worker.lines.filter((line) => /handed back/.test(line.msg ?? '')).map((line) => String(line.job_id));
    expect(handedBack, 'jobs handed back at the deadline').to.not.be.empty;
    for (const enqueued of batch) {
      const job = (await system.producer.queue('system').getJob(enqueued.id))!;
      // A job handed back was started twice but used one attempt: the one that completed.
      expect(job.attemptsMade, `attempts used by job ${job.id}`).to.equal(1);
      expect(job.attemptsStarted, `attempts started by job ${job.id}`).to.equal(handedBack.includes(job.id!) ? 2 : 1);
    }
  });
});
