import { expect } from 'chai';
import { Redis } from 'ioredis';
import { PerformanceRecorder, readWindow } from '../../src/metrics/performance.js';
import { Sketch } from '../../src/metrics/sketch.js';
import { testConfig } from '../helpers/config.js';
import { clearRedis } from '../helpers/redis.js';

const NOW = Date.UTC(2025, 2, 3, 14, 7, 42);
const MINUTE = 60_000;

describe('performance figures', () => {
  const config = testConfig();
  let redis: Redis;
  let now = NOW;
  const recorder = (instance: string) => new PerformanceRecorder(redis, config.prefix, instance, () => now);

  beforeEach(() => {
    redis = new Redis(config.redisUrl);
    now = NOW;
  });

  afterEach(async () => {
    await clearRedis(config);
    redis.disconnect();
  });

  it('should merge the sketches of every process into the figures of the union', async () => {
    const web = recorder('web:host:1');
    const other = recorder('web:host:2');
    const fast = Array.from({ length: 300 }, (_, i) => 1 + (i % 10));
    const slow = Array.from({ length: 100 }, (_, i) => 100 + i);
    for (const ms of fast) web.time('api', 'GET /api/bars', ms);
    for (const ms of slow) other.time('api', 'GET /api/bars', ms);
    await Promise.all([web.flush(), other.flush()]);
    const figures = await readWindow(redis, config.prefix, '5m', NOW);
    expect(figures.apiResponseTime['GET /api/bars']).to.deep.equal(Sketch.of([...fast, ...slow]).stat());
    expect(figures.apiResponseTime['GET /api/bars'].p99).to.be.above(190);
  });

  it('should count a sample only in the windows that reach back to it', async () => {
    const worker = recorder('worker:host:1');
    now = NOW - 30 * MINUTE;
    worker.time('job.duration', 'import-bars', 2_000);
    now = NOW;
    worker.time('job.duration', 'import-bars', 500);
    worker.time('job.wait', 'import-bars', 12);
    await worker.flush();
    const fiveMinutes = await readWindow(redis, config.prefix, '5m', NOW);
    const hour = await readWindow(redis, config.prefix, '1h', NOW);
    expect(fiveMinutes.jobDuration['import-bars']).to.deep.include({ sampleCount: 1, max: 500 });
    expect(hour.jobDuration['import-bars']).to.deep.include({ sampleCount: 2, min: 500, max: 2_000, mean: 1_250 });
    expect(hour.queueWait['import-bars'].sampleCount).to.equal(1);
    expect(fiveMinutes.throughput.jobsPerSecond).to.be.closeTo(1 / ((NOW - Date.parse(fiveMinutes.from)) / 1000), 1e-9);
  });

  it('should keep what a process stored after it flushed again and after it stopped', async () => {
    const worker = recorder('worker:host:1');
    worker.time('db.query', 'select', 3);
    await worker.flush();
    worker.time('db.query', 'select', 5);
    await worker.stop();
    const figures = await readWindow(redis, config.prefix, '1h', NOW);
    expect(figures.postgresQueryTime.select).to.deep.include({ sampleCount: 2, min: 3, max: 5 });
  });

  it('should turn counts into hit rates, error rates and events per second', async () => {
    const web = recorder('web:host:1');
    web.count('cache.hit', 'bars', 3);
    web.count('cache.miss', 'bars');
    web.count('operations', 'web', 50);
    web.count('errors', 'web', 2);
    web.count('events.published', 'tickstock.bars.updated', 4);
    await web.flush();
    const figures = await readWindow(redis, config.prefix, '24h', NOW);
    expect(figures.cacheHitRate).to.deep.equal({ bars: { hits: 3, misses: 1, hitRate: 0.75 } });
    expect(figures.errorRate).to.deep.equal({ web: { operations: 50, errors: 2, errorRate: 0.04 } });
    expect(figures.throughput.eventsPerSecond).to.be.above(0);
  });

  it('should let a stored slot expire once no window reaches it', async () => {
    const web = recorder('web:host:1');
    web.time('api', 'GET /healthz', 1);
    await web.flush();
    const keys = await redis.keys(`${config.prefix}:perf:5m:*`);
    expect(keys).to.have.length(1);
    const ttl = await redis.pttl(keys[0]);
    expect(ttl).to.be.within(5 * MINUTE, 5 * MINUTE + 10_000);
  });
});
