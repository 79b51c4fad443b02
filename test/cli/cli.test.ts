import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { freePort } from '../../src/cli/child-service.js';
import { cli } from '../helpers/cli.js';
import { TestSystem } from '../helpers/system.js';
import { eventually } from '../helpers/wait.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string })
  .version;

describe('tickforge CLI', function () {
  this.timeout(120_000);
  let system: TestSystem;

  before(async () => {
    system = await TestSystem.create();
  });

  after(async () => {
    await system.close();
  });

  it('should print its version when asked with --version', async () => {
    const run = await cli(system.config, ['--version']);
    expect(run.code).to.equal(0);
    expect(run.stdout.trim()).to.equal(VERSION);
  });

  it('should exit 2 with the problem named when the command line is wrong', async () => {
    const missing = await cli(system.config, ['import-bars', '--timeframe', '1m']);
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.match(/missing required argument 'file'/);
    const unknown = await cli(system.config, ['queues', '--colour']);
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.match(/unknown option '--colour'/);
  });

  it('should say that no worker serves the queue when --wait waits on a queue nobody serves', async () => {
    const run = await cli(system.config, ['enqueue', 'noop', '--wait'], { until: (stderr) => /no worker serves/.test(stderr) });
    expect(run.stderr).to.match(/no worker serves queue system/);
  });

  it('should name REDIS_URL when Redis does not answer', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const run = await cli({ ...system.config, redisUrl: url }, ['queues']);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.include(`cannot reach Redis at REDIS_URL=${url}`);
  });

  describe('with a worker', () => {
    before(async () => {
      await system.startWorker();
    });

    it('should print exactly one JSON document with --wait --json, after showing each retry', async () => {
      const run = await cli(system.config, ['enqueue', 'noop', '--data', '{"failAttempts":1}', '--wait', '--json']);
      expect(run.code, run.stderr).to.equal(0);
      const document = JSON.parse(run.stdout) as { name: string; state: string; result: unknown };
      expect(document).to.include({ name: 'noop', state: 'completed' });
      expect(document.result).to.be.an('object');
      expect(run.stderr).to.match(/attempt 1 of 3 failed: attempt 1 fails on purpose .*; retrying/);
    });

    it('should list the workers of each queue and count the jobs per state', async () => {
      const run = await cli(system.config, ['queues', '--json']);
      expect(run.code, run.stderr).to.equal(0);
      const { queues } = JSON.parse(run.stdout) as { queues: Array<{ queue: string; completed: number; workers: unknown[] }> };
      const queue = queues.find((q) => q.queue === 'system')!;
      expect(queue.workers).to.have.length.greaterThan(0);
      expect(queue.completed).to.be.greaterThan(0);
    });

    it('should show a dead letter and put it back when retried', async () => {
      const { id } = await system.producer.enqueue('noop', { failAttempts: 10 });
      // Three attempts with backoff (2 s, 4 s) before it is a dead letter.
      await eventually(
        async () => (await system.producer.queue('system').getJobState(id)) === 'failed',
        'the job to fail',
        40_000,
      );
      const failed = await cli(system.config, ['jobs', 'failed', '--queue', 'system', '--json']);
      const listed = JSON.parse(failed.stdout) as { jobs: Array<{ id: string; failedReason: string }> };
      expect(listed.jobs.find((job) => job.id === id)?.failedReason).to.match(/fails on purpose/);
      const retried = await cli(system.config, ['jobs', 'retry', 'system', id, '--json']);
      expect(retried.code, retried.stderr).to.equal(0);
      expect((JSON.parse(retried.stdout) as { state: string }).state).to.not.equal('failed');
    });

    it('should stop a running job and its kernel when cancelled', async () => {
      const { id } = await system.producer.enqueue('noop', { cpuMs: 30_000 });
      await eventually(async () => (await system.producer.queue('system').getJobState(id)) === 'active', 'the job to start');
      const started = Date.now();
      const run = await cli(system.config, ['jobs', 'cancel', 'system', id, '--reason', 'test']);
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout).to.match(/asked to stop it/);
      await eventually(
        async () => (await system.producer.queue('system').getJobState(id)) === 'failed',
        'the job to fail',
        20_000,
      );
      const job = await system.producer.queue('system').getJob(id);
      expect(job!.failedReason).to.equal('cancelled: test');
      expect(Date.now() - started).to.be.below(20_000);
    });
  });
});
