import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import { pino } from 'pino';
import { startWebServer, type WebServer } from '../../src/api/server.js';
import { createLogger } from '../../src/shared/logger.js';
import { TEST_READ_TOKEN, TEST_TOKEN } from '../helpers/config.js';
import { TestSystem } from '../helpers/system.js';

const DATE = '2018-02-07';

interface HistoryEntry {
  queue: string;
  jobId: string;
  name: string;
  correlationId: string | null;
  outcome: string;
}

describe('correlation ids', function () {
  this.timeout(180_000);
  let system: TestSystem;
  let web: WebServer;
  const lines: Array<Record<string, unknown>> = [];

  before(async () => {
    system = await TestSystem.create();
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    await system.startWorker({}, undefined, pino({ level: 'info' }, sink));
    web = await startWebServer(system.config, createLogger('test-web', 'silent'), '127.0.0.1');
  });

  after(async () => {
    await web?.close();
    await system.close();
  });

  const history = async (query: string) => {
    const response = await fetch(`${web.url}/api/jobs/history?${query}`, { headers: { authorization: `Bearer ${TEST_READ_TOKEN}` } });
    return { status: response.status, body: (await response.json()) as { jobs: HistoryEntry[]; issues?: Array<{ path: string }> } };
  };

  const streamEvents = async () =>
    (await system.redis.xrange(system.config.eventStream, '-', '+')).map(
      ([, fields]) => JSON.parse(fields[fields.indexOf('event') + 1]) as { event_type: string; correlation_id: string | null },
    );

  it('should carry the request id of the API call that started an EOD pipeline to every step, its events, its log lines and its history rows', async () => {
    const requestId = `corr-${randomUUID()}`;
    const response = await fetch(`${web.url}/api/jobs/eod-pipeline`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json', 'x-request-id': requestId },
      body: JSON.stringify({ date: DATE }),
    });
    expect(response.status).to.equal(202);
    const { id } = (await response.json()) as { id: string };
    const pipeline = await system.producer.queue('sync').getJob(id);
    await pipeline!.waitUntilFinished(await system.events('sync'), 150_000);

    const { status, body } = await history(`correlationId=${requestId}`);
    expect(status).to.equal(200);
    // The pipeline, its five steps and the five tasks of its eod-sync step.
    expect(body.jobs.map((job) => job.name).sort()).to.deep.equal(
      [
        'eod-pipeline',
        'aggregate-bars',
        'detect-patterns',
        'analyze-patterns',
        'eod-sync',
        'warm-cache',
        ...Array<string>(5).fill('eod-sync-task'),
      ].sort(),
    );
    for (const job of body.jobs) expect(job, job.jobId).to.deep.include({ correlationId: requestId, outcome: 'completed' });
    // Nothing of the run is missing from the filter: every row of the schema is one of them.
    const all = (await system.db('job_history').count({ count: '*' }).first()) as { count: number | string };
    expect(Number(all.count)).to.equal(body.jobs.length);

    const events = await streamEvents();
    expect(events.map((event) => event.event_type)).to.include.members(['automation.status', 'cache.sync_complete']);
    for (const event of events) expect(event, event.event_type).to.deep.include({ correlation_id: requestId });

    for (const job of body.jobs) {
      const ofJob = lines.filter((line) => line.job_id === job.jobId);
      expect(ofJob.map((line) => line.msg), job.jobId).to.include(`${job.name} ${job.jobId} completed on attempt 1`);
      for (const line of ofJob) expect(line.correlation_id, String(line.msg)).to.equal(requestId);
    }
  });

  it('should use a job’s own id as its correlation id when nothing started it', async () => {
    const { id } = await system.run('noop', { waitMs: 1 });
    const { body } = await history(`correlationId=${id}&queue=system`);
    expect(body.jobs.map((job) => [job.jobId, job.name, job.correlationId])).to.deep.equal([[id, 'noop', id]]);
    expect(lines.find((line) => line.job_id === id)?.correlation_id).to.equal(id);
  });

  it('should answer 400 naming the field for a bad history query', async () => {
    const { status, body } = await history('limit=0&correlationId=');
    expect(status).to.equal(400);
    expect(body.issues?.map((issue) => issue.path).sort()).to.deep.equal(['correlationId', 'limit']);
  });
});
