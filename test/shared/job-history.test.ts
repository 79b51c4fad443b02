import { expect } from 'chai';
import { ident } from '../../src/shared/db.js';
import { JobHistoryRepository, type JobHistoryRow } from '../../src/shared/job-history.repository.js';
import { TestSystem } from '../helpers/system.js';

describe('job history', function () {
  this.timeout(60_000);
  let system: TestSystem;
  /** The test schema, quoted. */
  let schema: string;

  before(async () => {
    system = await TestSystem.create();
    schema = ident(system.config.dbSchema);
    await system.startWorker({ workerConcurrency: 16 });
  });

  afterEach(async () => {
    await system.db.raw(`DROP TRIGGER IF EXISTS history_probe ON ${schema}.job_history`);
    await system.db.raw(`DROP FUNCTION IF EXISTS ${schema}.history_probe()`);
    await system.db.raw(`DROP SEQUENCE IF EXISTS ${schema}.history_statements, ${schema}.history_failed_rows`);
  });

  after(async () => {
    await system.close();
  });

  /**
   * Runs `body` in a trigger on every INSERT statement into job_history. Sequences count what
   * it sees, because they keep their value when the statement fails and rolls back.
   */
  async function probeHistoryStatements(body: string): Promise<void> {
    await system.db.raw(`CREATE SEQUENCE ${schema}.history_statements`);
    await system.db.raw(`CREATE SEQUENCE ${schema}.history_failed_rows MINVALUE 0 START 0`);
    await system.db.raw(`
      CREATE FUNCTION ${schema}.history_probe() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE statement bigint := nextval('${schema}.history_statements');
      BEGIN ${body} RETURN NULL; END $$`);
    await system.db.raw(`
      CREATE TRIGGER history_probe AFTER INSERT ON ${schema}.job_history
      REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.history_probe()`);
  }

  async function sequenceValue(name: string): Promise<number> {
    const row = (await system.db.raw(`SELECT last_value FROM ${schema}.${name}`)) as { rows: Array<{ last_value: number }> };
    return Number(row.rows[0].last_value);
  }

  /** A completed row of a queue of the test's own (no worker serves it). */
  function historyRow(queue: string, jobId: string, attempts = 1): JobHistoryRow {
    const at = new Date('2026-12-02T10:00:00.123Z');
    return { queue, jobId, correlationId: jobId, enqueuedAt: at, name: 'noop', outcome: 'completed', attempts, finishedAt: at };
  }

  async function rowsOf(queue: string): Promise<Array<{ job_id: string; attempts: number }>> {
    return (await system.db('job_history').where({ queue }).select('job_id', 'attempts').orderBy('job_id')) as Array<{
      job_id: string;
      attempts: number;
    }>;
  }

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

  it('should write the row of every one of many jobs finishing at once, in fewer statements than rows', async () => {
    await probeHistoryStatements('');
    const history = new JobHistoryRepository(system.db, system.config.dbSchema);
    const ids = Array.from({ length: 300 }, (_, i) => `many-${String(i).padStart(3, '0')}`);
    await Promise.all(ids.map((id) => history.record(historyRow('many', id))));
    expect((await rowsOf('many')).map((row) => row.job_id)).to.deep.equal(ids);
    const statements = await sequenceValue('history_statements');
    expect(statements).to.be.at.least(1).and.below(ids.length / 10);
  });

  it('should reject every row of a batch whose statement fails, and write each once when they are recorded again', async () => {
    await probeHistoryStatements(`IF statement = 1 THEN RAISE EXCEPTION 'history is unavailable'; END IF;`);
    const history = new JobHistoryRepository(system.db, system.config.dbSchema);
    const ids = Array.from({ length: 40 }, (_, i) => `retried-${String(i).padStart(2, '0')}`);
    const first = await Promise.allSettled(ids.map((id) => history.record(historyRow('retried', id))));
    const rejected = first.filter((outcome) => outcome.status === 'rejected');
    expect(rejected.length).to.be.at.least(1);
    for (const outcome of rejected) expect(String(outcome.reason)).to.include('history is unavailable');
    // Every row of the failed statement was rejected, and only those.
    expect(await rowsOf('retried')).to.have.length(ids.length - rejected.length);
    await Promise.all(ids.map((id) => history.record(historyRow('retried', id, 2))));
    const rows = await rowsOf('retried');
    expect(rows.map((row) => row.job_id)).to.deep.equal(ids);
    expect(rows.every((row) => row.attempts === 2)).to.equal(true);
  });

  it('should reject a row whose summary cannot be serialised without failing the rows written with it', async () => {
    const history = new JobHistoryRepository(system.db, system.config.dbSchema);
    const [good, bad] = await Promise.allSettled([
      history.record(historyRow('summaries', 'serialisable')),
      history.record({ ...historyRow('summaries', 'unserialisable'), summary: { size: 10n } }),
    ]);
    expect(good.status).to.equal('fulfilled');
    expect(bad.status === 'rejected' && String(bad.reason)).to.match(/BigInt/);
    expect((await rowsOf('summaries')).map((row) => row.job_id)).to.deep.equal(['serialisable']);
  });

  it('should not report a job completed before its history row is committed', async () => {
    // A slow history statement: a runtime that reported completion before the commit would be caught out.
    await probeHistoryStatements(`PERFORM pg_sleep(0.3);`);
    const events = await system.events('system');
    const checks: Array<Promise<{ jobId: string; rows: number }>> = [];
    const onCompleted = ({ jobId }: { jobId: string }) => {
      checks.push(
        system
          .db('job_history')
          .where({ queue: 'system', job_id: jobId })
          .count<Array<{ count: string | number }>>({ count: '*' })
          .then(([row]) => ({ jobId, rows: Number(row.count) })),
      );
    };
    events.on('completed', onCompleted);
    try {
      const jobs = await Promise.all(Array.from({ length: 24 }, () => system.producer.enqueue('noop', {})));
      await system.waitForCompleted('system', jobs.map((job) => job.id));
      const seen = await Promise.all(checks);
      expect(seen.map((check) => check.jobId)).to.include.members(jobs.map((job) => job.id));
      expect(seen.filter((check) => check.rows !== 1)).to.deep.equal([]);
    } finally {
      events.off('completed', onCompleted);
    }
  });

  it('should fail the attempt of every job whose batch cannot be written, and write each row once when they retry', async () => {
    await probeHistoryStatements(`
      IF statement = 1 THEN
        PERFORM setval('${schema}.history_failed_rows', (SELECT count(*) FROM inserted));
        RAISE EXCEPTION 'history is unavailable';
      END IF;`);
    const jobs = await Promise.all(Array.from({ length: 24 }, () => system.producer.enqueue('noop', {})));
    await system.waitForCompleted('system', jobs.map((job) => job.id));
    const rows = (await system
      .db('job_history')
      .whereIn(
        'job_id',
        jobs.map((job) => job.id),
      )
      .andWhere({ queue: 'system' })
      .select('job_id', 'attempts', 'outcome')) as Array<{ job_id: string; attempts: number; outcome: string }>;
    expect(rows.map((row) => row.job_id).sort()).to.deep.equal(jobs.map((job) => job.id).sort());
    expect(rows.every((row) => row.outcome === 'completed')).to.equal(true);
    const failedRows = await sequenceValue('history_failed_rows');
    expect(failedRows).to.be.at.least(1);
    // The jobs of the failed statement completed on their second attempt, every other on its first.
    expect(rows.filter((row) => row.attempts === 2)).to.have.length(failedRows);
    expect(rows.filter((row) => row.attempts === 1)).to.have.length(jobs.length - failedRows);
  });
});
