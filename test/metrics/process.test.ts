import { expect } from 'chai';
import type client from 'prom-client';
import { createProcessRegistry, processResources } from '../../src/metrics/process.js';

type MetricJson = client.MetricObjectWithValues<client.MetricValue<string>>;

describe('process figures', () => {
  it('should read CPU, memory, heap, event-loop lag and uptime of this process from its snapshot', async () => {
    const registry = createProcessRegistry();
    await registry.getMetricsAsJSON();
    const until = performance.now() + 60;
    while (performance.now() < until) Math.sqrt(Math.random());
    const snapshot = (await registry.getMetricsAsJSON()) as MetricJson[];
    const resources = processResources('worker:host:1', Date.UTC(2025, 0, 2), snapshot);
    expect(resources.instance).to.equal('worker:host:1');
    expect(resources.cpuPercent).to.be.above(0);
    expect(resources.residentMemoryBytes).to.be.above(10 * 1024 ** 2);
    expect(resources.heapUsedBytes).to.be.above(1024 ** 2);
    expect(resources.eventLoopLagP99Ms).to.be.at.least(0);
    expect(resources.uptimeSeconds).to.equal(Math.round(process.uptime()));
    expect(resources.reportedAt).to.equal('2025-01-02T00:00:00.000Z');
  });
});
