import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { BarsRepository } from '../../src/bars/bars.repository.js';
import { startProcess, type TestProcess } from '../helpers/process.js';
import { TestSystem } from '../helpers/system.js';
import { eventually, waitForEvent } from '../helpers/wait.js';

const ready = (line: { msg?: string }) => /serving/.test(line.msg ?? '');

/** A CSV of `rows` valid 1-minute bars, big enough that an import takes a few seconds. */
function largeCsv(rows: number): string {
  const lines = ['ts,open,high,low,close,volume'];
  const start = Date.parse('2021-01-04T14:30:00Z');
  for (let i = 0; i < rows; i++) {
    const price = 100 + (i % 500) / 100;
    lines.push(
      `${new Date(start + i * 60_000).toISOString()},${price},${price + 0.05},${price - 0.05},${price},${1000 + (i % 97)}`,
    );
  }
  return lines.join('\n');
}

describe('worker process', function () {
  this.timeout(120_000);
  let system: TestSystem;
  let dir: string;
  const processes: TestProcess[] = [];
  const start = (env: NodeJS.ProcessEnv = {}) => {
    const child = startProcess('worker', system.config, [], env);
    processes.push(child);
    return child;
  };

  before(async () => {
    system = await TestSystem.create();
    dir = await mkdtemp(path.join(os.tmpdir(), 'tickforge-worker-'));
  });

  afterEach(async () => {
    await Promise.all(processes.splice(0).map((child) => child.stop('SIGKILL')));
  });

  after(async () => {
    await system.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('should finish a running job and exit 0 when SIGTERM arrives within the deadline', async () => {
    const worker = start();
    await worker.waitForLine(ready);
    const events = await system.events('system');
    const job = await system.producer.enqueue('noop', { waitMs: 1_500 });
    await waitForEvent(events, 'active', ({ jobId }: { jobId: string }) => jobId === job.id);
    const exited = await worker.stop('SIGTERM');
    expect(exited.code).to.equal(0);
    const finished = await system.producer.queue('system').getJob(job.id);
    expect(await finished!.getState()).to.equal('completed');
    expect(worker.lines.some((line) => line.msg === 'worker stopped')).to.equal(true);
  });

  it('should hand a job back at the deadline and let the next worker finish it without using an attempt', async () => {
    const first = start({ TICKFORGE_SHUTDOWN_TIMEOUT_MS: '300' });
    await first.waitForLine(ready);
    const events = await system.events('system');
    const job = await system.producer.enqueue('noop', { waitMs: 30_000 });
    await waitForEvent(events, 'active', ({ jobId }: { jobId: string }) => jobId === job.id);
    expect((await first.stop('SIGTERM')).code).to.equal(0);
    await first.waitForLine((line) => /handed back/.test(line.msg ?? ''));
    const handedBack = await system.producer.queue('system').getJob(job.id);
    expect(['delayed', 'waiting']).to.include(await handedBack!.getState());
    expect(handedBack!.attemptsMade).to.equal(0);

    await handedBack!.updateData({ waitMs: 0 });
    const second = start();
    await second.waitForLine(ready);
    await handedBack!.waitUntilFinished(events, 20_000);
    const done = await system.producer.queue('system').getJob(job.id);
    // Only the attempt that completed counts; the one handed back does not.
    expect(done!.attemptsMade).to.equal(1);
    expect(done!.attemptsStarted).to.equal(2);
    expect(await done!.getState()).to.equal('completed');
  });

  it('should let a new worker finish an import stopped mid-job, with the exact row count', async () => {
    const rows = 150_000;
    const file = path.join(dir, 'large.csv');
    await writeFile(file, largeCsv(rows));
    const first = start({ TICKFORGE_SHUTDOWN_TIMEOUT_MS: '0' });
    await first.waitForLine(ready);
    const events = await system.events('ingest');
    const job = await system.producer.enqueue('import-bars', { file, symbol: 'BIG', timeframe: '1m' });
    await waitForEvent(events, 'progress', ({ jobId }: { jobId: string }) => jobId === job.id);
    expect((await first.stop('SIGTERM')).code).to.equal(0);

    const second = start();
    await second.waitForLine(ready);
    const imported = await system.producer.queue('ingest').getJob(job.id);
    await imported!.waitUntilFinished(events, 60_000);
    const bars = new BarsRepository(system.db, system.config.dbSchema);
    expect(await bars.count({ symbol: 'BIG' })).to.equal(rows);
    // The first attempt was cut short and handed back, without using an attempt or leaving rows.
    expect(first.lines.filter((line) => /handed back/.test(line.msg ?? '')).map((line) => line.job_id)).to.deep.equal([job.id]);
    const finished = (await system.producer.queue('ingest').getJob(job.id))!;
    expect(finished.attemptsStarted).to.equal(2);
    expect(finished.attemptsMade).to.equal(1);
    expect(finished.returnvalue).to.include({ written: rows, unchanged: 0 });
    const history = await system.db('job_history').where({ queue: 'ingest', job_id: job.id });
    expect(history).to.have.length(1);
    expect(history[0].outcome).to.equal('completed');
  });

  it('should exit at once with 130 on a second signal', async () => {
    const worker = start({ TICKFORGE_SHUTDOWN_TIMEOUT_MS: '60000' });
    await worker.waitForLine(ready);
    const events = await system.events('system');
    const job = await system.producer.enqueue('noop', { waitMs: 30_000 });
    await waitForEvent(events, 'active', ({ jobId }: { jobId: string }) => jobId === job.id);
    worker.child.kill('SIGTERM');
    await worker.waitForLine((line) => /shutting down/.test(line.msg ?? ''));
    const exited = await worker.stop('SIGINT');
    expect(exited.code).to.equal(130);
    await system.producer
      .queue('system')
      .remove(job.id)
      .catch(() => undefined);
  });

  it('should abort the kernel task of a cancelled job', async () => {
    const runtime = await system.startWorker();
    const events = await system.events('system');
    const job = await system.producer.enqueue('noop', { cpuMs: 30_000 });
    await waitForEvent(events, 'active', ({ jobId }: { jobId: string }) => jobId === job.id);
    const started = Date.now();
    const failed = waitForEvent<[{ jobId: string; failedReason: string }]>(events, 'failed', ({ jobId }) => jobId === job.id);
    // The queue's 'active' event can arrive before the worker starts tracking the job.
    await eventually(
      async () => runtime.workers.some((worker) => worker.cancelJob(job.id, 'cancelled by the test')),
      'the job to be cancellable',
    );
    const [{ failedReason }] = await failed;
    expect(Date.now() - started).to.be.below(10_000);
    expect(failedReason).to.equal('cancelled: cancelled by the test');
    expect((await system.producer.queue('system').getJob(job.id))!.attemptsMade).to.equal(1);
    expect(runtime.pool.queueSize).to.equal(0);
  });

  it('should refuse to start with a bad setting, naming the variable', async () => {
    const worker = start({ TICKFORGE_POOL_THREADS: 'lots' });
    const exited = await worker.exited;
    expect(exited.code).to.equal(78);
    expect(worker.stderr.join('')).to.match(/TICKFORGE_POOL_THREADS="lots": must be a whole number/);
  });

  it('should refuse to start on a schema that is not migrated once its wait for the migrations is over', async () => {
    const worker = start({ TICKFORGE_DB_SCHEMA: 'never_migrated', TICKFORGE_MIGRATION_WAIT_MS: '0' });
    const exited = await worker.exited;
    expect(exited.code).to.equal(1);
    expect(worker.lines.some((line) => /not migrated .* run: npx tickforge migrate/.test(line.msg ?? ''))).to.equal(true);
  });
});
