import { expect } from 'chai';
import { startWebServer, type WebServer } from '../../src/api/server.js';
import { serverSentEvents } from '../../src/cli/demo-tour.js';
import { createLogger } from '../../src/shared/logger.js';
import { TEST_READ_TOKEN, TEST_TOKEN } from '../helpers/config.js';
import { TestSystem } from '../helpers/system.js';

interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

/** Reads a text/event-stream response until `stop` says so or the stream ends. */
async function readEvents(response: Response, stop: (event: SseEvent) => boolean): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  for await (const event of serverSentEvents(response)) {
    events.push(event as SseEvent);
    if (stop(event as SseEvent)) break;
  }
  return events;
}

describe('HTTP API', function () {
  let system: TestSystem;
  let web: WebServer;
  const auth = { authorization: `Bearer ${TEST_TOKEN}` };
  const json = { ...auth, 'content-type': 'application/json' };

  before(async () => {
    system = await TestSystem.create();
    web = await startWebServer(system.config, createLogger('test-web', system.config.logLevel), '127.0.0.1');
  });

  after(async () => {
    await web.close();
    await system.close();
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = json) =>
    fetch(`${web.url}${path}`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });

  it('should answer 401 without a token and with a wrong one', async () => {
    expect((await post('/api/jobs/noop', {}, { 'content-type': 'application/json' })).status).to.equal(401);
    const wrong = await post(
      '/api/jobs/noop',
      {},
      { authorization: 'Bearer nope-nope-nope-nope', 'content-type': 'application/json' },
    );
    expect(wrong.status).to.equal(401);
    expect((await fetch(`${web.url}/admin/queues`)).status).to.equal(401);
    expect((await fetch(`${web.url}/api/jobs/system/1`)).status).to.equal(401);
  });

  it('should enqueue a valid payload with 202 and show the job', async () => {
    const response = await post('/api/jobs/noop', { waitMs: 0 });
    expect(response.status).to.equal(202);
    const body = (await response.json()) as { id: string; queue: string; name: string };
    expect(body).to.include({ queue: 'system', name: 'noop' });
    expect(response.headers.get('location')).to.equal(`/api/jobs/system/${body.id}`);
    const status = await fetch(`${web.url}/api/jobs/system/${body.id}`, { headers: auth });
    expect(status.status).to.equal(200);
    expect(await status.json()).to.deep.include({ id: body.id, name: 'noop', state: 'waiting', attemptsMade: 0 });
  });

  it('should answer 400 naming each bad field', async () => {
    const response = await post('/api/jobs/import-bars', { symbol: 'SPY; DROP TABLE bars', timeframe: '7m', csv: 'x', extra: 1 });
    expect(response.status).to.equal(400);
    const body = (await response.json()) as { error: string; issues: Array<{ path: string; message: string }> };
    const paths = body.issues.map((issue) => issue.path);
    expect(paths).to.include.members(['symbol', 'timeframe', '']);
    expect(body.issues.find((issue) => issue.path === 'timeframe')?.message).to.match(/must be one of 1m, 5m/);
    expect(body.issues.find((issue) => issue.path === '')?.message).to.match(/extra/);
  });

  it('should answer 400 for a body that is not JSON', async () => {
    const response = await post('/api/jobs/noop', '{"waitMs":');
    expect(response.status).to.equal(400);
    expect(((await response.json()) as { error: string }).error).to.match(/not valid JSON/);
  });

  it('should answer 404 for an unknown job, queue or job id', async () => {
    const unknownJob = await post('/api/jobs/launch-rockets', {});
    expect(unknownJob.status).to.equal(404);
    expect(((await unknownJob.json()) as { error: string }).error).to.match(
      /unknown job "launch-rockets"; known jobs: import-bars/,
    );
    expect((await fetch(`${web.url}/api/jobs/nope/1`, { headers: auth })).status).to.equal(404);
    expect((await fetch(`${web.url}/api/jobs/system/does-not-exist`, { headers: auth })).status).to.equal(404);
  });

  it('should answer 413 above the body limit', async () => {
    const response = await post('/api/jobs/import-bars', { symbol: 'X', timeframe: '1m', csv: 'a'.repeat(2 * 1024 * 1024) });
    expect(response.status).to.equal(413);
    expect(((await response.json()) as { error: string }).error).to.match(/exceeds the limit of 1048576 bytes/);
  });

  it('should return the same job for a repeated Idempotency-Key', async () => {
    const headers = { ...json, 'idempotency-key': 'nightly-2024-01-02' };
    const first = (await (await post('/api/jobs/noop', {}, headers)).json()) as { id: string };
    const second = (await (await post('/api/jobs/noop', {}, headers)).json()) as { id: string };
    expect(second.id).to.equal(first.id);
    expect(await system.producer.queue('system').getJobCountByTypes('waiting')).to.be.greaterThan(0);
  });

  it('should let a read-only token query but not enqueue', async () => {
    const readAuth = { authorization: `Bearer ${TEST_READ_TOKEN}`, 'content-type': 'application/json' };
    expect((await post('/api/jobs/noop', {}, readAuth)).status).to.equal(403);
    const job = (await (await post('/api/jobs/noop', {})).json()) as { id: string };
    expect((await fetch(`${web.url}/api/jobs/system/${job.id}`, { headers: readAuth })).status).to.equal(200);
  });

  it('should stream progress and completion of a job over SSE', async () => {
    const csv = ['ts,open,high,low,close,volume', '2020-01-02T14:30:00Z,1,2,1,2,10', '2020-01-02T14:31:00Z,2,2,1,1,10'].join(
      '\n',
    );
    const job = (await (await post('/api/jobs/import-bars', { symbol: 'SSE', timeframe: '1m', csv })).json()) as { id: string };
    const stream = await fetch(`${web.url}/api/jobs/ingest/${job.id}/events`, { headers: auth });
    expect(stream.headers.get('content-type')).to.match(/text\/event-stream/);
    const reading = readEvents(stream, (event) => event.event === 'completed' || event.event === 'failed');
    await system.startWorker();
    const events = await reading;
    expect(events[0].event).to.equal('state');
    const progress = events.filter((event) => event.event === 'progress').map((event) => event.data.progress);
    expect(progress).to.include(100);
    expect(events.at(-1)).to.deep.include({ event: 'completed' });
    expect(events.at(-1)!.data.result).to.deep.include({ written: 2 });
  });

  it('should send completed at once to a client that connects after the job ended', async () => {
    const { id } = await system.run('noop', {});
    const stream = await fetch(`${web.url}/api/jobs/system/${id}/events`, { headers: auth });
    const events = await readEvents(stream, (event) => event.event === 'completed');
    expect(events.map((event) => event.event)).to.deep.equal(['state', 'completed']);
  });

  it('should serve Bull Board to a browser with the token as basic-auth password', async () => {
    const basic = `Basic ${Buffer.from(`ops:${TEST_TOKEN}`).toString('base64')}`;
    const page = await fetch(`${web.url}/admin/queues`, { headers: { authorization: basic } });
    expect(page.status).to.equal(200);
    expect(await page.text()).to.match(/<html/i);
    const queues = await fetch(`${web.url}/admin/queues/api/queues`, { headers: { authorization: basic } });
    const body = (await queues.json()) as { queues: Array<{ name: string }> };
    expect(body.queues.map((queue) => queue.name)).to.include.members(['ingest', 'sync', 'system']);
    const readOnly = `Basic ${Buffer.from(`ops:${TEST_READ_TOKEN}`).toString('base64')}`;
    const readQueues = await fetch(`${web.url}/admin/queues/api/queues`, { headers: { authorization: readOnly } });
    const readBody = (await readQueues.json()) as { queues: Array<{ name: string; readOnlyMode: boolean }> };
    expect(readBody.queues.every((queue) => queue.readOnlyMode)).to.equal(true);
    expect(body.queues.every((queue) => !(queue as { readOnlyMode?: boolean }).readOnlyMode)).to.equal(true);
    const pause = await fetch(`${web.url}/admin/queues/api/queues/system/pause`, {
      method: 'PUT',
      headers: { authorization: readOnly },
    });
    expect(pause.status).to.equal(405);
    const challenge = await fetch(`${web.url}/admin/queues`);
    expect(challenge.headers.get('www-authenticate')).to.match(/^Basic/);
  });

  it('should publish an OpenAPI document covering every route and every job payload', async () => {
    const response = await fetch(`${web.url}/api/openapi.json`);
    expect(response.status).to.equal(200);
    const document = (await response.json()) as { openapi: string; paths: Record<string, Record<string, any>> };
    expect(document.openapi).to.equal('3.1.0');
    expect(Object.keys(document.paths)).to.include.members([
      '/api/jobs/import-bars',
      '/api/jobs/noop',
      '/api/jobs/{queue}/{id}',
      '/api/jobs/{queue}/{id}/events',
      '/api/jobs/failed',
      '/api/jobs/{queue}/redrive',
      '/api/system/health',
      '/healthz',
      '/metrics',
    ]);
    const importBars = document.paths['/api/jobs/import-bars'].post.requestBody.content['application/json'].schema;
    expect(importBars.properties.timeframe.enum).to.include('1h');
    expect(importBars.additionalProperties).to.equal(false);
    const failed = document.paths['/api/jobs/failed'].get.parameters.map((p: { name: string }) => p.name);
    expect(failed).to.deep.equal(['queue', 'name', 'limit', 'offset']);
  });

  it('should summarise the system for a person', async () => {
    await system.flushMetrics();
    const response = await fetch(`${web.url}/api/system/health`, { headers: auth });
    const health = (await response.json()) as {
      status: string;
      services: Record<string, string>;
      queues: Array<{ queue: string; completed: number; oldestWaitingSeconds: number }>;
      workers: Array<{ queue: string; workers: number }>;
      pools: Array<{ threads: number }>;
    };
    expect(health.status).to.equal('ok');
    expect(health.services).to.deep.equal({ redis: 'ok', postgres: 'ok', migrations: 'ok' });
    expect(health.queues.find((q) => q.queue === 'system')!.completed).to.be.greaterThan(0);
    expect(health.workers.find((w) => w.queue === 'ingest')!.workers).to.be.at.least(1);
    expect(health.pools.length).to.be.at.least(1);
    expect(health.pools[0].threads).to.be.at.least(1);
  });

  it('should report health, readiness and metrics of the web process and the workers', async () => {
    await system.run('noop', {});
    await system.flushMetrics();
    expect(await (await fetch(`${web.url}/healthz`)).json()).to.deep.equal({ status: 'ok' });
    const ready = await fetch(`${web.url}/readyz`);
    expect(ready.status).to.equal(200);
    expect(await ready.json()).to.deep.equal({ status: 'ready', redis: 'ok', postgres: 'ok', migrations: 'ok' });
    const metrics = await (await fetch(`${web.url}/metrics`)).text();
    expect(metrics).to.match(/tickforge_http_request_duration_seconds_bucket\{.*route="\/healthz"/);
    expect(metrics).to.match(/tickforge_queue_jobs\{queue="system",state="completed"\} [1-9]/);
    expect(metrics).to.match(/tickforge_jobs_finished_total\{queue="system",name="noop",outcome="completed"\}/);
    expect(metrics).to.match(/tickforge_job_duration_seconds_bucket\{.*queue="system".*name="noop"/);
    expect(metrics).to.match(/tickforge_queue_oldest_waiting_seconds\{queue="ingest"\} 0/);
    expect(metrics).to.match(/tickforge_pool_threads\{instance="worker:[^"]+"\} [1-9]/);
  });
});
