import { expect } from 'chai';
import { Redis } from 'ioredis';
import client from 'prom-client';
import { deploymentMetrics, MetricsPublisher } from '../../src/metrics/totals.js';
import { testConfig } from '../helpers/config.js';
import { clearRedis } from '../helpers/redis.js';

/** One simulated process: a jobs counter and histogram adding up into totals, and a gauge of its own. */
function processMetrics(redis: Redis, prefix: string, instance: string, threads: number) {
  const totals = new client.Registry();
  const own = new client.Registry();
  const finished = new client.Counter({
    name: 'tickforge_jobs_finished_total',
    help: 'Jobs that finished for good',
    labelNames: ['queue', 'outcome'] as const,
    registers: [totals],
  });
  const duration = new client.Histogram({
    name: 'tickforge_job_duration_seconds',
    help: 'Processing time of an attempt',
    labelNames: ['queue'] as const,
    buckets: [0.1, 1],
    registers: [totals],
  });
  new client.Gauge({ name: 'tickforge_pool_threads', help: 'Kernel-pool threads', registers: [own] }).set(threads);
  return { finished, duration, publisher: new MetricsPublisher(redis, prefix, { totals, own }, instance) };
}

/** The value of one sample line of the Prometheus text, or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics totals', () => {
  const config = testConfig();
  let redis: Redis;
  const render = async () => (await deploymentMetrics(redis, config.prefix)).metrics();

  beforeEach(() => {
    redis = new Redis(config.redisUrl);
  });

  afterEach(async () => {
    await clearRedis(config);
    redis.disconnect();
  });

  it('should keep counters from falling when a worker stops', async () => {
    const first = processMetrics(redis, config.prefix, 'worker:host:1', 2);
    const second = processMetrics(redis, config.prefix, 'worker:host:2', 4);
    first.finished.inc({ queue: 'ingest', outcome: 'completed' }, 120);
    second.finished.inc({ queue: 'ingest', outcome: 'completed' }, 80);
    await Promise.all([first.publisher.flush(), second.publisher.flush()]);
    const series = 'tickforge_jobs_finished_total{queue="ingest",outcome="completed"}';
    expect(sample(await render(), series)).to.equal(200);

    second.finished.inc({ queue: 'ingest', outcome: 'completed' }, 5);
    await second.publisher.stop();
    const afterStop = await render();
    expect(sample(afterStop, series)).to.equal(205);
    expect(sample(afterStop, 'tickforge_pool_threads{instance="worker:host:2"}')).to.equal(undefined);

    first.finished.inc({ queue: 'ingest', outcome: 'completed' }, 10);
    await first.publisher.flush();
    expect(sample(await render(), series)).to.equal(215);
  });

  it('should keep counting from the total when a process restarts with counters at zero', async () => {
    const before = processMetrics(redis, config.prefix, 'worker:host:1', 2);
    before.finished.inc({ queue: 'sync', outcome: 'failed' }, 7);
    await before.publisher.flush();
    // A restarted process is a new process with new counters: it only adds.
    const after = processMetrics(redis, config.prefix, 'worker:host:9', 2);
    after.finished.inc({ queue: 'sync', outcome: 'failed' }, 1);
    await after.publisher.flush();
    await after.publisher.flush();
    expect(sample(await render(), 'tickforge_jobs_finished_total{queue="sync",outcome="failed"}')).to.equal(8);
  });

  it("should add histograms bucket by bucket and show each live process's gauges with its instance", async () => {
    const first = processMetrics(redis, config.prefix, 'worker:host:1', 2);
    const second = processMetrics(redis, config.prefix, 'worker:host:2', 4);
    first.duration.observe({ queue: 'ingest' }, 0.05);
    second.duration.observe({ queue: 'ingest' }, 0.5);
    second.duration.observe({ queue: 'ingest' }, 5);
    await Promise.all([first.publisher.flush(), second.publisher.flush()]);
    const text = await render();
    expect(sample(text, 'tickforge_job_duration_seconds_bucket{le="0.1",queue="ingest"}')).to.equal(1);
    expect(sample(text, 'tickforge_job_duration_seconds_bucket{le="1",queue="ingest"}')).to.equal(2);
    expect(sample(text, 'tickforge_job_duration_seconds_bucket{le="+Inf",queue="ingest"}')).to.equal(3);
    expect(sample(text, 'tickforge_job_duration_seconds_count{queue="ingest"}')).to.equal(3);
    expect(sample(text, 'tickforge_job_duration_seconds_sum{queue="ingest"}')).to.be.closeTo(5.55, 1e-9);
    expect(text.indexOf('le="0.1"')).to.be.below(text.indexOf('le="1"'));
    expect(sample(text, 'tickforge_pool_threads{instance="worker:host:1"}')).to.equal(2);
    expect(sample(text, 'tickforge_pool_threads{instance="worker:host:2"}')).to.equal(4);
  });

  it('should refuse a gauge among the totals, which cannot add up across processes', async () => {
    const totals = new client.Registry();
    new client.Gauge({ name: 'tickforge_wrong', help: 'a gauge', registers: [totals] }).set(1);
    const publisher = new MetricsPublisher(redis, config.prefix, { totals, own: new client.Registry() }, 'web:host:1');
    const refused = await publisher.flush().catch((error: Error) => error);
    expect(refused).to.be.instanceOf(TypeError);
    expect((refused as Error).message).to.equal('tickforge_wrong is a gauge: only counters and histograms add up into totals');
  });
});
