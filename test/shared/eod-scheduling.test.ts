import { expect } from 'chai';
import type { Job } from 'bullmq';
import { createLogger } from '../../src/shared/logger.js';
import { Publisher } from '../../src/notify/publisher.js';
import { SIGNAL_GROUP } from '../../src/scheduler/eod-signals.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { startProcess } from '../helpers/process.js';
import { TestSystem } from '../helpers/system.js';
import { eventually } from '../helpers/wait.js';

const DATE = '2018-02-07';

describe('end-of-day scheduling', function () {
  let system: TestSystem;
  let publisher: Publisher;
  const logger = createLogger('test-scheduler', 'silent');

  const historyOf = (jobId: string) => system.db('job_history').where({ queue: 'sync', job_id: jobId });
  const finished = async (jobId: string): Promise<Job> => {
    const job = await eventually(() => system.producer.queue('sync').getJob(jobId), `job ${jobId}`);
    await job.waitUntilFinished(await system.events('sync'), 30_000);
    return (await system.producer.queue('sync').getJob(jobId))!;
  };

  const streamGroups = async () => {
    const groups = (await system.redis.xinfo('GROUPS', system.config.eventStream)) as Array<Array<string | number>>;
    return groups.map((flat) =>
      Object.fromEntries(Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i], flat[2 * i + 1]])),
    );
  };
  const streamIdAtLeast = (id: string, than: string) => {
    const [ms, seq] = id.split('-').map(Number);
    const [thanMs, thanSeq] = than.split('-').map(Number);
    return ms > thanMs || (ms === thanMs && seq >= thanSeq);
  };

  before(async () => {
    system = await TestSystem.create();
    await system.startWorker();
    publisher = new Publisher(system.redis, { service: 'test', prefix: system.config.prefix, stream: system.config.eventStream, streamMaxLen: 1_000 });
  });

  after(async () => {
    await system.close();
  });

  it('should run one pipeline for a date when the timer fires twice and the eod_complete signal names it too', async () => {
    const scheduler = await Scheduler.start(system.config, logger);
    try {
      // The timer's job scheduler, firing the trigger for DATE twice in quick succession.
      await system.producer
        .queue('sync')
        .upsertJobScheduler('test-timer', { every: 200, limit: 2 }, { name: 'eod-trigger', data: { date: DATE } });
      await publisher.publish('eodComplete', { trading_date: DATE }, null);

      const pipeline = await finished(`eod-${DATE}`);
      expect(pipeline.returnvalue.steps.map((step: { step: string }) => step.step)).to.deep.equal([
        'aggregate',
        'detect',
        'analyze',
        'sync',
        'warm',
      ]);
      await eventually(
        async () => (await system.db('job_history').where({ name: 'eod-trigger' })).length === 2,
        'both timer firings',
      );
      // The stream copy of the signal has been read and acknowledged by the scheduler's group.
      const [signal] = (await system.redis.xrange(system.config.eventStream, '-', '+')).filter(([, fields]) =>
        fields.includes(system.channels.eodComplete),
      );
      await eventually(async () => {
        const group = (await streamGroups()).find((g) => g.name === SIGNAL_GROUP);
        return group !== undefined && group.pending === 0 && streamIdAtLeast(String(group['last-delivered-id']), signal[0]);
      }, 'the stream signal to be acknowledged');

      expect(await historyOf(`eod-${DATE}`)).to.have.length(1);
      expect(await system.db('sync_runs').where({ trading_date: DATE })).to.have.length(1);
      const triggers = await system.db('job_history').where({ name: 'eod-trigger' });
      for (const trigger of triggers) expect(trigger.summary.jobId).to.equal(`eod-${DATE}`);
      // Each step's start, the pipeline's end and each trigger's outcome are announced.
      const statuses = (await system.redis.xrange(system.config.eventStream, '-', '+'))
        .filter(([, fields]) => fields.includes(system.channels.automationStatus))
        .map(
          ([, fields]) =>
            (JSON.parse(fields[fields.indexOf('event') + 1]) as { data: { status: string; step?: string; date: string } }).data,
        );
      expect(statuses.filter((status) => status.status === 'running').map((status) => status.step)).to.deep.equal([
        'aggregate',
        'detect',
        'analyze',
        'sync',
        'warm',
      ]);
      expect(statuses.filter((status) => status.status === 'completed')).to.deep.equal([
        { pipeline: 'eod', date: DATE, status: 'completed', steps: ['aggregate', 'detect', 'analyze', 'sync', 'warm'] },
      ]);
      expect(statuses.filter((status) => status.status === 'requested' || status.status === 'already-completed')).to.have.length(
        2,
      );
    } finally {
      await scheduler.stop();
    }
  });

  it('should not enqueue anything when the timer fires on a weekend or an NYSE holiday', async () => {
    for (const date of ['2018-02-10', '2018-02-19']) {
      const { result } = await system.run('eod-trigger', { date });
      expect(result).to.deep.equal({ date, outcome: 'not-a-session' });
      expect(await system.producer.queue('sync').getJob(`eod-${date}`)).to.equal(undefined);
    }
  });

  it('should not run a completed date again once its pipeline job has left Redis', async () => {
    await system.producer.queue('sync').remove(`eod-${DATE}`, { removeChildren: false });
    const { result } = await system.run('eod-trigger', { date: DATE });
    expect(result).to.deep.include({ outcome: 'already-completed' });
    expect(await system.producer.queue('sync').getJob(`eod-${DATE}`)).to.equal(undefined);
  });

  it('should enqueue the sessions missed within the look-back in date order when it starts', async () => {
    // Friday 2018-02-09 17:00 New York: the last three slots are 02-07 (already run), 02-08 and 02-09.
    const now = Date.parse('2018-02-09T22:00:00Z');
    const scheduler = await Scheduler.start({ ...system.config, eodCatchUpSessions: 3 }, logger, { now: () => now });
    try {
      const last = await finished('eod-2018-02-09');
      expect(last.returnvalue.date).to.equal('2018-02-09');
      const runs = await system.db.raw<{ rows: Array<{ date: string }> }>(
        `SELECT to_char(trading_date, 'YYYY-MM-DD') AS date FROM sync_runs ORDER BY started_at`,
      );
      expect(runs.rows.map((row) => row.date)).to.deep.equal([DATE, '2018-02-08', '2018-02-09']);
      expect(await historyOf('eod-2018-02-08')).to.have.length(1);
    } finally {
      await scheduler.stop();
    }
  });

  it('should leave the look-back alone when no pipeline completed in it, so historical syncs stay possible', async () => {
    // Weeks after the last completed run (2018-02-09): a database of historical syncs, not one keeping up.
    const now = Date.parse('2018-03-15T22:00:00Z');
    const scheduler = await Scheduler.start({ ...system.config, eodCatchUpSessions: 3 }, logger, { now: () => now });
    try {
      for (const date of ['2018-03-13', '2018-03-14', '2018-03-15']) {
        expect(await system.producer.queue('sync').getJob(`eod-${date}`)).to.equal(undefined);
      }
    } finally {
      await scheduler.stop();
    }
  });

  it('should start a pipeline for an eod_complete signal and stop with exit code 0 on SIGTERM', async () => {
    const process = startProcess('scheduler', system.config);
    try {
      await process.waitForLine((line) => (line.msg ?? '').startsWith(`listening for ${system.channels.eodComplete} `));
      await publisher.publish('eodComplete', { date: '2018-02-12' }, null);
      await finished('eod-2018-02-12');
    } finally {
      const exit = await process.stop('SIGTERM');
      expect(exit).to.deep.equal({ code: 0, signal: null });
    }
  });

  it('should fail the pipeline with the reason of a step that fails for good', async () => {
    const failure = await system.run('eod-pipeline', { date: '2018-02-01' }).catch((error: Error) => error);
    expect((failure as Error).message).to.match(
      /eod-2018-02-01-sync failed: .*eod-2018-02-01-sync-\w+ failed: .*already synced 2018-02-12/,
    );
  });
});
