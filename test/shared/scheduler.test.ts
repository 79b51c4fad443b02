import { expect } from 'chai';
import { upsertSchedules } from '../../src/scheduler/scheduler.js';
import { SCHEDULES } from '../../src/scheduler/schedules.js';
import { startProcess } from '../helpers/process.js';
import { TestSystem } from '../helpers/system.js';

describe('scheduler', function () {
  let system: TestSystem;

  before(async () => {
    system = await TestSystem.create();
  });

  after(async () => {
    await system.close();
  });

  it('should leave one scheduler and one pending job per schedule after repeated and concurrent upserts', async () => {
    await upsertSchedules(system.producer);
    await Promise.all([upsertSchedules(system.producer), upsertSchedules(system.producer), upsertSchedules(system.producer)]);
    const queue = system.producer.queue('sync');
    const schedulers = await queue.getJobSchedulers();
    const backups = await system.producer.queue('system').getJobSchedulers();
    expect([...schedulers, ...backups].map((s) => s.key)).to.deep.equal(SCHEDULES.map((s) => s.id));
    expect(schedulers[0]).to.deep.include({ pattern: '30 16 * * 1-5', tz: 'America/New_York' });
    expect(backups[0]).to.deep.include({ pattern: '0 2 * * *', tz: 'UTC' });
    expect(await system.producer.queue('system').getDelayedCount()).to.equal(1);
    expect(await queue.getDelayedCount()).to.equal(1);
    const [next] = await queue.getDelayed();
    // The next firing is 16:30 in New York on a weekday, whatever the season.
    const local = new Intl.DateTimeFormat('en-US', {
      timeZone: 'America/New_York',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      weekday: 'short',
    }).format(new Date(next.timestamp + next.delay));
    expect(local).to.match(/^(Mon|Tue|Wed|Thu|Fri) 16:30$/);
  });

  it('should start, upsert, and stop cleanly with exit code 0 on SIGTERM', async () => {
    const scheduler = startProcess('scheduler', system.config);
    await scheduler.waitForLine((line) => /upserted 2 job schedulers/.test(line.msg ?? ''));
    const exited = await scheduler.stop('SIGTERM');
    expect(exited.code).to.equal(0);
    expect(await system.producer.queue('sync').getJobSchedulersCount()).to.equal(1);
  });
});
