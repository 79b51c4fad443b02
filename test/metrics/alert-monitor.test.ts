import { expect } from 'chai';
import { Redis } from 'ioredis';
import type { AlertTransition } from '../../src/metrics/alert-engine.js';
import { activeAlerts, AlertMonitor, recentTransitions } from '../../src/metrics/alert-monitor.js';
import { DEFAULT_ALERT_THRESHOLDS, type MonitoringSnapshot } from '../../src/metrics/alert-rules.js';
import { testConfig } from '../helpers/config.js';
import { clearRedis } from '../helpers/redis.js';

const T0 = Date.UTC(2025, 2, 3, 21, 0);

describe('alert monitor', () => {
  const config = testConfig();
  let redis: Redis;
  let snapshot: MonitoringSnapshot;
  let announced: string[];

  const monitor = (instance: string) =>
    new AlertMonitor({
      redis,
      prefix: config.prefix,
      instance,
      intervalMs: 60_000,
      thresholds: { ...DEFAULT_ALERT_THRESHOLDS, redisMemoryBytes: 1_000 },
      gather: async () => snapshot,
      announce: async ({ state, alert }: AlertTransition) => {
        announced.push(`${instance} ${state} ${alert.id}`);
      },
      onError: (error) => {
        throw error;
      },
    });

  beforeEach(() => {
    redis = new Redis(config.redisUrl);
    announced = [];
    snapshot = { at: T0, redis: { usedMemoryBytes: 10 } };
  });

  afterEach(async () => {
    await clearRedis(config);
    redis.disconnect();
  });

  it('should let one process evaluate at a time and another take over when it stops', async () => {
    const first = monitor('scheduler:host:1');
    const second = monitor('scheduler:host:2');
    expect(await first.lead()).to.equal(true);
    expect(await second.lead()).to.equal(false);
    expect(await first.lead()).to.equal(true);
    await first.stop();
    expect(await second.lead()).to.equal(true);
    expect(await first.lead()).to.equal(false);
    await second.stop();
  });

  it('should announce an alert once when it fires and once when it resolves, and keep it listed', async () => {
    const evaluator = monitor('scheduler:host:1');
    await evaluator.evaluate(new Date(T0));
    snapshot = { at: T0 + 60_000, redis: { usedMemoryBytes: 5_000 } };
    await evaluator.evaluate(new Date(T0 + 60_000));
    await evaluator.evaluate(new Date(T0 + 120_000));
    expect((await activeAlerts(redis, config.prefix)).map((alert) => alert.id)).to.deep.equal(['redis-memory:redis']);
    snapshot = { at: T0 + 180_000, redis: { usedMemoryBytes: 10 } };
    await evaluator.evaluate(new Date(T0 + 180_000));
    expect(announced).to.deep.equal([
      'scheduler:host:1 firing redis-memory:redis',
      'scheduler:host:1 resolved redis-memory:redis',
    ]);
    expect(await activeAlerts(redis, config.prefix)).to.deep.equal([]);
    const recent = await recentTransitions(redis, config.prefix);
    expect(recent.map((entry) => [entry.state, entry.at])).to.deep.equal([
      ['resolved', new Date(T0 + 180_000).toISOString()],
      ['firing', new Date(T0 + 60_000).toISOString()],
    ]);
  });

  it('should neither fire again nor forget to resolve when another process takes over', async () => {
    snapshot = { at: T0, redis: { usedMemoryBytes: 5_000 } };
    await monitor('scheduler:host:1').evaluate(new Date(T0));
    const successor = monitor('scheduler:host:2');
    await successor.evaluate(new Date(T0 + 60_000));
    snapshot = { at: T0 + 120_000, redis: { usedMemoryBytes: 10 } };
    await successor.evaluate(new Date(T0 + 120_000));
    expect(announced).to.deep.equal([
      'scheduler:host:1 firing redis-memory:redis',
      'scheduler:host:2 resolved redis-memory:redis',
    ]);
  });
});
