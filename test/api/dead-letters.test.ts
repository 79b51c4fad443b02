import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { startWebServer, type WebServer } from '../../src/api/server.js';
import { createLogger } from '../../src/shared/logger.js';
import { type EventEnvelope } from '../../src/notify/channels.js';
import { closeRedis, createRedis, type RedisClient } from '../../src/shared/redis.js';
import { TEST_READ_TOKEN, TEST_TOKEN } from '../helpers/config.js';
import { TestSystem } from '../helpers/system.js';
import { waitForEvent } from '../helpers/wait.js';

describe('dead letters, redrive, bulk enqueue and rate limits', function () {
  let system: TestSystem;
  let web: WebServer;
  let subscriber: RedisClient;
  let dir: string;
  const json = { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' };

  before(async () => {
    system = await TestSystem.create({ rateLimitPerMinute: 40 });
    web = await startWebServer(system.config, createLogger('test-web', system.config.logLevel), '127.0.0.1');
    await system.startWorker();
    subscriber = createRedis(system.config, 'subscriber');
    await subscriber.subscribe(system.channels.advancedError);
    dir = await mkdtemp(path.join(os.tmpdir(), 'tickforge-dlq-'));
  });

  after(async () => {
    await closeRedis(subscriber);
    await web.close();
    await system.close();
    await rm(dir, { recursive: true, force: true });
  });

  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = json) =>
    fetch(`${web.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });

  it('should retry a failing job with backoff and keep it, with reason and payload, after its last attempt', async () => {
    const alert = waitForEvent<[string, string]>(subscriber, 'message', (_channel, message) => {
      return (JSON.parse(message) as EventEnvelope<{ job_name: string }>).data.job_name === 'noop';
    });
    const failure = await system.run('noop', { failAttempts: 5 }).catch((error: Error) => error);
    expect((failure as Error).message).to.match(/attempt 3 fails on purpose/);
    const [, message] = await alert;
    const envelope = JSON.parse(message) as EventEnvelope<Record<string, unknown>>;
    expect(envelope.event_type).to.equal('advanced.error');
    expect(envelope.data).to.deep.include({ queue: 'system', job_name: 'noop', attempts: 3 });

    const listed = (await (await call('GET', '/api/jobs/failed?queue=system')).json()) as {
      total: number;
      jobs: Array<{ id: string; attemptsMade: number; failedReason: string; data: Record<string, unknown> }>;
    };
    expect(listed.total).to.equal(1);
    expect(listed.jobs[0]).to.deep.include({ attemptsMade: 3, failedReason: 'attempt 3 fails on purpose (failAttempts 5)' });
    expect(listed.jobs[0].data).to.deep.include({ failAttempts: 5 });
    const history = await system.db('job_history').where({ queue: 'system', job_id: listed.jobs[0].id }).first();
    expect(history).to.include({ outcome: 'failed', attempts: 3 });
  });

  it('should never retry a job whose payload is invalid', async () => {
    const queue = system.producer.queue('ingest');
    const job = await queue.add('import-bars', { symbol: 'X', timeframe: '7m', csv: 'x' }, { attempts: 5 });
    const events = await system.events('ingest');
    const failure = await job.waitUntilFinished(events, 20_000).catch((error: Error) => error);
    expect((failure as Error).message).to.match(/invalid payload: timeframe: must be one of/);
    expect((await queue.getJob(job.id!))!.attemptsMade).to.equal(1);
  });

  const csv = 'ts,open,high,low,close,volume\n2020-01-02T14:30:00Z,1,2,1,2,10\n';

  /** Imports of files that do not exist yet: they fail for good, as a vendor's missing file would. */
  async function failedImports(count: number): Promise<string[]> {
    const files = Array.from({ length: count }, (_, i) => path.join(dir, `late-${Date.now()}-${i}.csv`));
    const results = await Promise.allSettled(
      files.map((file, i) => system.run('import-bars', { file, symbol: `LATE${i}`, timeframe: '1m' })),
    );
    expect(results.every((result) => result.status === 'rejected')).to.equal(true);
    return files;
  }

  /** Resolves when `count` jobs of the queue have completed. */
  async function completions(queue: 'ingest', count: number): Promise<void> {
    const events = await system.events(queue);
    let completed = 0;
    await new Promise<void>((resolve) => {
      const onCompleted = () => {
        if (++completed < count) return;
        events.off('completed', onCompleted);
        resolve();
      };
      events.on('completed', onCompleted);
    });
  }

  it('should put one failed job back with POST /api/jobs/:queue/:id/retry, with a fresh set of attempts', async () => {
    const [file] = await failedImports(1);
    const { jobs } = (await (await call('GET', '/api/jobs/failed?queue=ingest')).json()) as {
      jobs: Array<{ id: string; failedReason: string }>;
    };
    expect(jobs[0].failedReason).to.match(/does not exist/);
    expect(
      (await call('POST', `/api/jobs/ingest/${jobs[0].id}/retry`, undefined, { authorization: `Bearer ${TEST_READ_TOKEN}` }))
        .status,
    ).to.equal(403);
    await writeFile(file, csv);
    const done = completions('ingest', 1);
    const response = await call('POST', `/api/jobs/ingest/${jobs[0].id}/retry`);
    expect(response.status).to.equal(200);
    await done;
    const job = await system.producer.queue('ingest').getJob(jobs[0].id);
    expect(job!.attemptsMade).to.equal(1);
    expect((await call('POST', `/api/jobs/ingest/${jobs[0].id}/retry`)).status).to.equal(409);
  });

  it('should redrive failed jobs in bulk by queue, name and time range', async () => {
    const older = await failedImports(1);
    const { jobs } = (await (await call('GET', '/api/jobs/failed?queue=ingest&limit=1')).json()) as {
      jobs: Array<{ failedAt: string }>;
    };
    // Failures can share a millisecond; start the range just after the older one.
    const since = new Date(Date.parse(jobs[0].failedAt) + 1).toISOString();
    const files = await failedImports(3);
    await Promise.all([...older, ...files].map((file) => writeFile(file, csv)));
    const failedBefore = (await (await call('GET', '/api/jobs/failed?queue=ingest&name=import-bars')).json()) as {
      total: number;
    };
    const done = completions('ingest', 3);
    const response = await call('POST', '/api/jobs/ingest/redrive', { name: 'import-bars', from: since });
    expect(((await response.json()) as { retried: number }).retried).to.equal(3);
    await done;
    const after = (await (await call('GET', '/api/jobs/failed?queue=ingest&name=import-bars')).json()) as { total: number };
    expect(after.total).to.equal(failedBefore.total - 3);
  });

  it('should put each job back once when redrives run at once, each answering 200 with the jobs it put back', async () => {
    const files = await failedImports(4);
    await Promise.all(files.map((file) => writeFile(file, csv)));
    const failed = (await (await call('GET', '/api/jobs/failed?queue=ingest&name=import-bars')).json()) as { total: number };
    const done = completions('ingest', 4);
    const responses = await Promise.all(
      Array.from({ length: 4 }, () => call('POST', '/api/jobs/ingest/redrive', { name: 'import-bars' })),
    );
    expect(responses.map((response) => response.status)).to.deep.equal([200, 200, 200, 200]);
    const answers = (await Promise.all(responses.map((response) => response.json()))) as Array<{ retried: number; ids: string[] }>;
    const ids = answers.flatMap((answer) => answer.ids);
    expect(new Set(ids).size).to.equal(ids.length);
    expect(answers.reduce((sum, answer) => sum + answer.retried, 0)).to.equal(ids.length);
    expect(ids.length).to.equal(failed.total);
    await done;
  });

  it('should page the failed list across queues by offset, each page agreeing with the whole list', async () => {
    const whole = (await (await call('GET', '/api/jobs/failed?limit=500')).json()) as { total: number; jobs: Array<{ id: string; queue: string }> };
    expect(whole.total).to.equal(whole.jobs.length);
    expect(new Set(whole.jobs.map((job) => job.queue)).size).to.be.at.least(2);
    const pages: Array<{ id: string; queue: string }> = [];
    for (let offset = 0; offset < whole.total; offset += 2) {
      const page = (await (await call('GET', `/api/jobs/failed?limit=2&offset=${offset}`)).json()) as {
        total: number;
        jobs: Array<{ id: string; queue: string }>;
      };
      expect(page.total).to.equal(whole.total);
      pages.push(...page.jobs);
    }
    expect(pages.map((job) => `${job.queue}/${job.id}`)).to.deep.equal(whole.jobs.map((job) => `${job.queue}/${job.id}`));
  });

  it('should charge the rate limit only for jobs enqueued, never for a refused request', async () => {
    const before = await call('POST', '/api/jobs/noop', {});
    expect(before.status).to.equal(202);
    const remaining = Number(before.headers.get('ratelimit-remaining'));
    const bad = Array.from({ length: 30 }, () => ({ cpuMs: 'x' }));
    for (let i = 0; i < 5; i++) expect((await call('POST', '/api/jobs/noop/bulk', { payloads: bad })).status).to.equal(400);
    expect((await call('POST', '/api/jobs/noop', { cpuMs: -1 })).status).to.equal(400);
    const after = await call('POST', '/api/jobs/noop', {});
    expect(after.status).to.equal(202);
    expect(Number(after.headers.get('ratelimit-remaining'))).to.equal(remaining - 1);
  });

  it('should enqueue in bulk, validating every payload first', async () => {
    const bad = await call('POST', '/api/jobs/noop/bulk', { payloads: [{}, { cpuMs: 'x' }, {}] });
    expect(bad.status).to.equal(400);
    const issues = ((await bad.json()) as { issues: Array<{ path: string }> }).issues;
    expect(issues.map((issue) => issue.path)).to.deep.equal(['payloads.1.cpuMs']);
    const good = await call('POST', '/api/jobs/noop/bulk', { payloads: [{}, {}, {}] });
    expect(good.status).to.equal(202);
    expect(((await good.json()) as { count: number }).count).to.equal(3);
  });

  it('should answer 429 with Retry-After once a token exceeds its enqueue rate', async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 45; i++) {
      const response = await call('POST', '/api/jobs/noop', {});
      statuses.push(response.status);
      if (response.status === 429) retryAfter = response.headers.get('retry-after');
    }
    expect(statuses).to.include(429);
    expect(statuses.filter((status) => status === 202).length).to.be.at.most(40);
    expect(Number(retryAfter)).to.be.within(1, 60);
    // The failed noop of the first test would be put back: refused as well.
    for (const [method, route] of [
      ['POST', '/api/jobs/system/redrive'],
      ['POST', '/admin/queues/api/queues/system/add'],
    ] as const) {
      const response = await call(method, route, route.endsWith('add') ? { name: 'noop', data: {} } : {});
      expect(response.status, route).to.equal(429);
    }
  });

  it('should send security headers', async () => {
    const response = await fetch(`${web.url}/healthz`);
    expect(response.headers.get('x-content-type-options')).to.equal('nosniff');
    expect(response.headers.get('content-security-policy')).to.match(/default-src 'self'/);
    expect(response.headers.get('x-powered-by')).to.equal(null);
  });
});
