import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { startWebServer, type WebServer } from '../../src/api/server.js';
import { createLogger } from '../../src/shared/logger.js';
import { TEST_TOKEN } from '../helpers/config.js';
import { TestSystem } from '../helpers/system.js';
import { eventually } from '../helpers/wait.js';

const THREE_MINUTES = [
  'timestamp_utc,open,high,low,close,volume',
  '2024-03-04T14:30:00Z,100,101,99.5,100.5,1200',
  '2024-03-04T14:31:00Z,100.5,101.2,100.1,101,900',
  '2024-03-04T14:32:00Z,101,101.5,100.8,101.1,700',
].join('\n');

const DEPLOY_FILES = ['deploy/grafana/tickforge.dashboard.json', 'deploy/prometheus/tickforge.rules.yml'];

/** Every tickforge metric a deployment file queries. */
async function referencedMetrics(): Promise<string[]> {
  const names = new Set<string>();
  for (const file of DEPLOY_FILES) {
    for (const [name] of (await readFile(file, 'utf8')).matchAll(/tickforge_[a-z0-9_]+/g)) names.add(name);
  }
  return [...names].sort();
}

/** The metric names that have at least one sample in Prometheus text. */
function sampled(text: string): Set<string> {
  return new Set(
    text
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)![0]),
  );
}

describe('a /metrics scrape of a running deployment', function () {
  let system: TestSystem;
  let web: WebServer;
  const auth = { authorization: `Bearer ${TEST_TOKEN}` };
  const scrape = async () => (await fetch(`${web.url}/metrics`)).text();

  before(async () => {
    system = await TestSystem.create();
    await system.startWorker({ queues: ['ingest'] });
    web = await startWebServer(system.config, createLogger('test-web', system.config.logLevel), '127.0.0.1');
  });

  after(async () => {
    await web.close();
    await system.close();
  });

  it('should hold every metric the dashboard and the alert rules query once a job ran', async () => {
    await system.run('import-bars', { csv: THREE_MINUTES, symbol: 'MTRC', timeframe: '1m' });
    await system.flushMetrics();
    expect((await fetch(`${web.url}/healthz`)).status).to.equal(200);
    // The web process hears the job's tickstock.bars.updated event a moment after the job ends.
    const text = await eventually(async () => {
      const body = await scrape();
      return sampled(body).has('tickforge_event_delivery_seconds_bucket') && body;
    }, 'the bars.updated delivery in /metrics');
    const present = sampled(text);
    const missing = (await referencedMetrics()).filter((name) => !present.has(name));
    expect(missing, 'metrics the deployment files query but /metrics lacks').to.deep.equal([]);
    expect(text).to.match(/tickforge_jobs_finished_total\{queue="ingest",name="import-bars",outcome="completed"\} 1\n/);
    expect(text).to.match(/tickforge_jobs_retried_total\{queue="ingest",name="import-bars"\} 0\n/);
    expect(text).to.match(/tickforge_job_wait_seconds_count\{queue="ingest",name="import-bars"\} 1\n/);
    expect(text).to.match(/tickforge_events_published_total\{channel="tickstock.bars.updated"\} [1-9]/);
    expect(text).to.match(/tickforge_pool_threads\{instance="worker:[^"]+"\} [1-9]/);
    expect(text).to.match(/tickforge_worker_queue\{queue="ingest",instance="worker:[^"]+"\} 1\n/);
    expect(text).to.match(/tickforge_queue_workers\{queue="ingest"\} [1-9]/);
  });

  it('should show the worker, its queues and its kernel pool up in the comprehensive health', async () => {
    const response = await fetch(`${web.url}/api/system/health/comprehensive`, { headers: auth });
    const health = (await response.json()) as {
      components: Array<{ id: string; kind: string; status: string; queues?: string[]; details?: { threads?: number } }>;
    };
    const worker = health.components.find((c) => c.kind === 'worker');
    expect(worker, JSON.stringify(health.components)).to.include({ status: 'ok' });
    expect(worker!.id).to.match(/^worker:/);
    expect(worker!.queues).to.deep.equal(['ingest']);
    const pool = health.components.find((c) => c.id === `kernel-pool:${worker!.id}`);
    expect(pool).to.include({ status: 'ok' });
    expect(pool!.details!.threads).to.be.at.least(1);
  });

  it('should time the job and its wait in the performance figures', async () => {
    const response = await fetch(`${web.url}/api/system/performance/metrics?window=5m`, { headers: auth });
    const figures = (await response.json()) as {
      jobDuration: Record<string, { sampleCount: number }>;
      queueWait: Record<string, { sampleCount: number }>;
      postgresQueryTime: Record<string, { sampleCount: number }>;
    };
    expect(figures.jobDuration['import-bars'].sampleCount).to.equal(1);
    expect(figures.queueWait['import-bars'].sampleCount).to.equal(1);
    expect(figures.postgresQueryTime.select.sampleCount).to.be.above(0);
  });
});
