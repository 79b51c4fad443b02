import { expect } from 'chai';
import { Redis } from 'ioredis';
import type client from 'prom-client';
import type { Alert } from '../../src/metrics/alert-engine.js';
import { assessHealth, overallStatus, withSince, type HealthInputs } from '../../src/metrics/health.js';
import { testConfig } from '../helpers/config.js';
import { clearRedis } from '../helpers/redis.js';

type MetricJson = client.MetricObjectWithValues<client.MetricValue<string>>;

const NOW = Date.UTC(2025, 2, 3, 21, 0);
const gauge = (name: string, value: number, labels: Record<string, string> = {}): MetricJson =>
  ({ name, help: name, type: 'gauge', aggregator: 'sum', values: [{ value, labels }] }) as unknown as MetricJson;

const worker = (instance: string, threads: number, queued = 0) => ({
  instance,
  at: NOW,
  metrics: [
    gauge('tickforge_pool_threads', threads),
    gauge('tickforge_pool_queue_size', queued),
    {
      name: 'tickforge_worker_queue',
      help: '',
      type: 'gauge',
      aggregator: 'sum',
      values: [
        { value: 1, labels: { queue: 'ingest' } },
        { value: 1, labels: { queue: 'aggregate' } },
      ],
    } as unknown as MetricJson,
  ],
});

const healthy = (): HealthInputs => ({
  now: NOW,
  processes: [
    { instance: 'web:host:1', at: NOW, metrics: [gauge('tickforge_nodejs_eventloop_lag_p99_seconds', 0.01)] },
    worker('worker:host:2', 2),
    { instance: 'scheduler:host:3', at: NOW, metrics: [] },
  ],
  postgres: { ok: true, latencyMs: 1 },
  redis: { ok: true, latencyMs: 1 },
  eod: { tradingDate: '2025-03-03', triggeredAt: NOW - 60_000, finishedAt: NOW - 1_000 },
  alerts: [],
});

const alert = (rule: Alert['rule'], subject: string, message: string): Alert => ({
  id: `${rule}:${subject}`,
  rule,
  subject,
  severity: 'warning',
  value: 1,
  threshold: 0,
  message,
  since: new Date(NOW).toISOString(),
});

describe('comprehensive health', () => {
  it('should list every component as ok, with each worker, its queues and its kernel pool, when all is well', () => {
    const components = assessHealth(healthy());
    expect(components.map((c) => [c.id, c.status])).to.deep.equal([
      ['web:host:1', 'ok'],
      ['worker:host:2', 'ok'],
      ['kernel-pool:worker:host:2', 'ok'],
      ['scheduler', 'ok'],
      ['postgres', 'ok'],
      ['redis', 'ok'],
      ['eod', 'ok'],
      ['queues', 'ok'],
    ]);
    expect(components.find((c) => c.id === 'worker:host:2')?.queues).to.deep.equal(['aggregate', 'ingest']);
    expect(components.every((c) => c.reason === undefined)).to.equal(true);
    expect(overallStatus(components)).to.equal('ok');
  });

  it('should say why a component is down or degraded', () => {
    const inputs = healthy();
    inputs.processes = [worker('worker:host:2', 2, 9)];
    inputs.postgres = { ok: false, error: 'PostgreSQL did not answer within 2000 ms' };
    inputs.alerts = [
      alert('redis-memory', 'redis', 'Redis uses 2048 MiB (limit 1024 MiB)'),
      alert('eod-late', '2025-03-03', 'the EOD pipeline for 2025-03-03 has not finished 31 min after its trigger (limit 30 min)'),
      alert('no-worker', 'sync', '3 jobs wait in queue sync and no live worker serves it'),
    ];
    const byId = Object.fromEntries(assessHealth(inputs).map((c) => [c.id, c]));
    expect(byId.scheduler).to.deep.include({ status: 'down', reason: 'no live scheduler process' });
    expect(byId.postgres).to.deep.include({ status: 'down', reason: 'PostgreSQL did not answer within 2000 ms' });
    expect(byId.redis).to.deep.include({ status: 'degraded', reason: 'Redis uses 2048 MiB (limit 1024 MiB)' });
    expect(byId.eod.status).to.equal('degraded');
    expect(byId.queues.reason).to.equal('3 jobs wait in queue sync and no live worker serves it');
    expect(byId['kernel-pool:worker:host:2']).to.deep.include({
      status: 'degraded',
      reason: '9 kernel tasks wait for 2 threads',
    });
    expect(overallStatus(Object.values(byId))).to.equal('down');
  });

  describe('since', () => {
    const config = testConfig();
    let redis: Redis;
    beforeEach(() => {
      redis = new Redis(config.redisUrl);
    });
    afterEach(async () => {
      await clearRedis(config);
      redis.disconnect();
    });

    it('should keep the instant a status began until it changes', async () => {
      const first = await withSince(redis, config.prefix, assessHealth(healthy()), NOW);
      const later = await withSince(redis, config.prefix, assessHealth(healthy()), NOW + 60_000);
      expect(later.find((c) => c.id === 'postgres')?.since).to.equal(new Date(NOW).toISOString());
      const failing = { ...healthy(), postgres: { ok: false as const, error: 'refused' } };
      const changed = await withSince(redis, config.prefix, assessHealth(failing), NOW + 120_000);
      expect(changed.find((c) => c.id === 'postgres')).to.deep.include({
        status: 'down',
        since: new Date(NOW + 120_000).toISOString(),
      });
      expect(changed.find((c) => c.id === 'redis')?.since).to.equal(first.find((c) => c.id === 'redis')?.since);
    });
  });
});
