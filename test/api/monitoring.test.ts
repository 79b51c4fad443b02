import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express from 'express';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import client from 'prom-client';
import { accessLog } from '../../src/api/access-log.js';
import { auditTrail } from '../../src/api/audit.js';
import { AuditRepository } from '../../src/shared/audit.repository.js';
import { requireRole } from '../../src/api/auth.js';
import { errorHandler } from '../../src/api/errors.js';
import { openApiDocument } from '../../src/api/openapi.js';
import { monitoringRouter } from '../../src/api/routes/monitoring.js';
import type { Knex } from '../../src/shared/db.js';
import { AlertMonitor } from '../../src/metrics/alert-monitor.js';
import { DEFAULT_ALERT_THRESHOLDS } from '../../src/metrics/alert-rules.js';
import { PerformanceRecorder } from '../../src/metrics/performance.js';
import { createProcessRegistry } from '../../src/metrics/process.js';
import { MetricsPublisher } from '../../src/metrics/totals.js';
import { testConfig, TEST_READ_TOKEN, TEST_TOKEN } from '../helpers/config.js';
import { dropSchemas, migratedDb } from '../helpers/db.js';
import { clearRedis } from '../helpers/redis.js';

describe('monitoring routes', () => {
  const config = testConfig();
  const tokens = { write: TEST_TOKEN, read: TEST_READ_TOKEN };
  const logger = pino({ level: 'silent' });
  let db: Knex;
  let redis: Redis;
  let server: Server;
  let base: string;
  const router = () =>
    monitoringRouter({
      redis,
      prefix: config.prefix,
      db,
      tokens,
      audit: new AuditRepository(db),
      lastEodRun,
      sseConnections: () => 3,
    });
  const lastEodRun = async () => ({
    tradingDate: '2025-03-03',
    triggeredAt: Date.now() - 60_000,
    finishedAt: Date.now() - 5_000,
  });

  before(async () => {
    db = await migratedDb(config);
    redis = new Redis(config.redisUrl);
    const app = express();
    app.use(accessLog(logger, tokens));
    app.use(auditTrail(new AuditRepository(db), tokens, logger));
    app.post('/api/jobs/:name', requireRole('write', tokens), (req, res) => {
      res.status(202).json({ id: `${String(req.params.name)}-1`, queue: 'system', name: req.params.name });
    });
    app.use('/api', router().router);
    app.use(errorHandler(logger, { redis, prefix: config.prefix, db }));
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    await clearRedis(config);
    redis.disconnect();
    await dropSchemas(db, config);
  });

  const get = async (path: string) => {
    const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${TEST_READ_TOKEN}` } });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };

  it('should answer the figures of every process for the window, with each live process and Redis', async () => {
    const web = new PerformanceRecorder(redis, config.prefix, 'web:host:1');
    const worker = new PerformanceRecorder(redis, config.prefix, 'worker:host:2');
    for (let i = 1; i <= 100; i++) web.time('api', 'GET /api/bars', i);
    worker.time('job.duration', 'import-bars', 1_500);
    worker.count('cache.hit', 'bars', 9);
    worker.count('cache.miss', 'bars');
    await Promise.all([web.flush(), worker.flush()]);
    const own = createProcessRegistry();
    new client.Gauge({ name: 'tickforge_postgres_pool_in_use', help: 'in use', registers: [own] }).set(2);
    new client.Gauge({ name: 'tickforge_postgres_pool_size', help: 'size', registers: [own] }).set(10);
    await new MetricsPublisher(redis, config.prefix, { totals: new client.Registry(), own }, 'worker:host:2').flush();

    const { status, body } = await get('/api/system/performance/metrics?window=1h');
    expect(status).to.equal(200);
    expect(body.window).to.equal('1h');
    expect(body.apiResponseTime['GET /api/bars']).to.deep.include({ min: 1, max: 100, sampleCount: 100 });
    expect(body.apiResponseTime['GET /api/bars'].p99).to.be.within(98, 100);
    expect(body.jobDuration['import-bars'].sampleCount).to.equal(1);
    expect(body.cacheHitRate.bars).to.deep.equal({ hits: 9, misses: 1, hitRate: 0.9 });
    expect(body.processes).to.have.length(1);
    expect(body.processes[0]).to.deep.include({ instance: 'worker:host:2', postgresPool: { inUse: 2, size: 10 } });
    expect(body.redis.usedMemoryBytes).to.be.above(0);
    expect(body.sseConnections).to.equal(3);
  });

  it('should refuse an unknown window, naming it', async () => {
    const { status, body } = await get('/api/system/performance/metrics?window=2h');
    expect(status).to.equal(400);
    expect(JSON.stringify(body)).to.include('window');
  });

  it('should list every component with its status, reason and since, and the active alerts', async () => {
    const { status, body } = await get('/api/system/health/comprehensive');
    expect(status).to.equal(200);
    const byId = Object.fromEntries((body.components as Array<Record<string, any>>).map((c) => [c.id, c]));
    expect(byId.postgres).to.deep.include({ status: 'ok' });
    expect(byId.redis).to.deep.include({ status: 'ok' });
    expect(byId.scheduler).to.deep.include({ status: 'down', reason: 'no live scheduler process' });
    expect(byId['worker:host:2']).to.deep.include({ status: 'ok', kind: 'worker' });
    expect(byId.eod.details).to.deep.include({ tradingDate: '2025-03-03' });
    expect(body.status).to.equal('down');
    expect(Date.parse(byId.postgres.since)).to.be.at.most(Date.now());
  });

  it('should list the alerts the monitor fired and resolved', async () => {
    let used = 5_000;
    const monitor = new AlertMonitor({
      redis,
      prefix: config.prefix,
      instance: 'scheduler:host:3',
      intervalMs: 60_000,
      thresholds: { ...DEFAULT_ALERT_THRESHOLDS, redisMemoryBytes: 1_000 },
      gather: async () => ({ at: Date.now(), redis: { usedMemoryBytes: used } }),
      announce: async () => undefined,
      onError: () => undefined,
    });
    await monitor.evaluate();
    const firing = await get('/api/system/alerts');
    expect(firing.body.active.map((alert: { id: string }) => alert.id)).to.deep.equal(['redis-memory:redis']);
    const health = await get('/api/system/health/comprehensive');
    expect(health.body.alerts).to.have.length(1);
    used = 10;
    await monitor.evaluate();
    const resolved = await get('/api/system/alerts');
    expect(resolved.body.active).to.deep.equal([]);
    expect(resolved.body.recent.map((entry: { state: string }) => entry.state)).to.deep.equal(['resolved', 'firing']);
  });

  it('should record a mutating call in the audit trail with who, what and which jobs', async () => {
    const response = await fetch(`${base}/api/jobs/noop`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_TOKEN}`, 'x-request-id': 'audit-1' },
    });
    expect(response.status).to.equal(202);
    const refused = await fetch(`${base}/api/jobs/noop`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_READ_TOKEN}` },
    });
    expect(refused.status).to.equal(403);
    let entries: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 100 && entries.length < 2; i++) {
      entries = (await get('/api/system/audit?action=enqueue')).body.entries;
      if (entries.length < 2) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(entries.map((entry) => [entry.actor, entry.status])).to.deep.equal([
      ['read', 403],
      ['write', 202],
    ]);
    expect(entries[1]).to.deep.include({
      action: 'enqueue',
      route: '/api/jobs/:name',
      jobName: 'noop',
      jobIds: ['noop-1'],
      requestId: 'audit-1',
      queue: 'system',
    });
    expect((await get('/api/system/audit?limit=0')).status).to.equal(400);
  });

  it('should document each route with the schema of its answer in the OpenAPI document', () => {
    const document = openApiDocument([router()]) as { paths: Record<string, any> };
    const schema = document.paths['/api/system/performance/metrics'].get.responses['200'].content['application/json'].schema;
    expect(schema.properties.apiResponseTime.additionalProperties.properties).to.have.keys(
      'min',
      'max',
      'mean',
      'median',
      'p95',
      'p99',
      'sampleCount',
    );
    const health = document.paths['/api/system/health/comprehensive'].get.responses['200'].content['application/json'].schema;
    expect(health.properties.components.items.properties.since).to.deep.equal({ type: 'string' });
    expect(document.paths['/api/system/alerts'].get.responses['200'].content['application/json'].schema.properties).to.have.keys(
      'active',
      'recent',
    );
  });
});
