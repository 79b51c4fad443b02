import client from 'prom-client';

/**
 * A process's own figures: Node's default metrics (CPU seconds, resident memory, heap,
 * event-loop lag …) under `tickforge_`, CPU as a share of one core since the previous reading,
 * and uptime. Published with the process's `instance` label while it lives.
 */
export function createProcessRegistry(): client.Registry {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'tickforge_' });
  let previous = { usage: process.cpuUsage(), at: performance.now() };
  new client.Gauge({
    name: 'tickforge_process_cpu_percent',
    help: 'CPU time this process used since the previous reading, in % of one core',
    registers: [registry],
    collect() {
      const now = { usage: process.cpuUsage(), at: performance.now() };
      const cpuMicros = now.usage.user - previous.usage.user + (now.usage.system - previous.usage.system);
      const elapsedMs = now.at - previous.at;
      if (elapsedMs > 0) this.set((100 * cpuMicros) / 1000 / elapsedMs);
      previous = now;
    },
  });
  new client.Gauge({
    name: 'tickforge_process_uptime_seconds',
    help: 'Seconds since this process started',
    registers: [registry],
    collect() {
      this.set(process.uptime());
    },
  });
  return registry;
}

type MetricJson = client.MetricObjectWithValues<client.MetricValue<string>>;

/** The first value of a metric in a published snapshot, or undefined. */
export function gaugeValue(metrics: MetricJson[], name: string, labels: Record<string, string> = {}): number | undefined {
  const metric = metrics.find((candidate) => candidate.name === name);
  const value = metric?.values.find((candidate) =>
    Object.entries(labels).every(([key, want]) => String(candidate.labels[key]) === want),
  );
  return value?.value;
}

/** How a process is doing, read from its published snapshot. */
export interface ProcessResources {
  instance: string;
  cpuPercent: number;
  residentMemoryBytes: number;
  heapUsedBytes: number;
  eventLoopLagP99Ms: number;
  uptimeSeconds: number;
  reportedAt: string;
}

export function processResources(instance: string, at: number, metrics: MetricJson[]): ProcessResources {
  const value = (name: string) => gaugeValue(metrics, name) ?? 0;
  return {
    instance,
    cpuPercent: Number(value('tickforge_process_cpu_percent').toFixed(1)),
    residentMemoryBytes: value('tickforge_process_resident_memory_bytes'),
    heapUsedBytes: value('tickforge_nodejs_heap_size_used_bytes'),
    eventLoopLagP99Ms: Number((value('tickforge_nodejs_eventloop_lag_p99_seconds') * 1000).toFixed(2)),
    uptimeSeconds: Math.round(value('tickforge_process_uptime_seconds')),
    reportedAt: new Date(at).toISOString(),
  };
}
