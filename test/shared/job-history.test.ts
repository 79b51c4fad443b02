import { expect } from 'chai';
import { TestSystem } from '../helpers/system.js';

describe('job history', function () {
  this.timeout(60_000);
  let system: TestSystem;

  before(async () => {
    system = await TestSystem.create();
    await system.startWorker();
  });

  after(async () => {
    await system.close();
  });

  it('should keep the history of an earlier job when Redis is reset and job ids start again', async () => {
    const first = await system.run('noop', { waitMs: 1 });
    await system.producer.queue('system').obliterate({ force: true });
    const second = await system.run('noop', { waitMs: 2 });
    expect(second.id).to.equal(first.id);
    const rows = (await system.db('job_history').where({ queue: 'system', job_id: first.id }).orderBy('enqueued_at')) as Array<{
      outcome: string;
    }>;
    expect(rows).to.have.length(2);
    expect(rows.map((row) => row.outcome)).to.deep.equal(['completed', 'completed']);
  });
});
