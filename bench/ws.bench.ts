import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { QueueEvents, type Job } from 'bullmq';
import { WebSocket } from 'ws';
import { configEnvironment, loadConfig } from '../src/shared/config.js';
import { Producer } from '../src/queues/producer.js';
import { closeRedis, createRedis } from '../src/shared/redis.js';
import { median, quantile, report, section } from './report.js';

export const name = 'ws';

const CONNECTIONS = 1_000;
/** Progress calls of the busy job, and how often it calls. */
const PROGRESS_CALLS = 200;
const CALLS_PER_SECOND = 20;
const TOKEN = randomBytes(16).toString('hex');
const STEP = /"type":"noop_progress".*"currentStep":"([^"]+)"/;

interface Memory {
  rss: number;
  heapUsed: number;
  external: number;
  connections: number;
}

function ask<T>(child: ChildProcess, message: string): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (answer) => resolve(answer as T));
    child.send(message);
  });
}

/** Opens a client subscribed to the job; `onProgress` gets each progress message's step. */
function subscriber(url: string, jobId: string, onProgress: (step: string) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/api/ws`, { headers: { authorization: `Bearer ${TOKEN}` } });
    ws.on('error', reject);
    ws.on('open', () =>
      ws.send(JSON.stringify({ type: 'subscribe', subscription: 'busy', job: { queue: 'system', id: jobId } })),
    );
    ws.on('message', (data) => {
      const text = data.toString();
      // The clients share the bench's process: read the step without parsing the whole message.
      const step = STEP.exec(text);
      if (step) onProgress(step[1]);
      else if (text.includes('"type":"subscribed"')) resolve(ws);
    });
  });
}

/**
 * 1,000 WebSocket clients of one web process follow one busy job: the latency from the job's
 * progress call to each client (p50/p99) beside the same call to a bare QueueEvents reader in
 * the same run (the floor: BullMQ's event stream read), and the web process's memory per
 * connection.
 */
export async function run(): Promise<void> {
  section(`WebSocket: ${CONNECTIONS.toLocaleString('en-US')} clients following one job (${CALLS_PER_SECOND} progress calls/s)`);
  const id = randomBytes(4).toString('hex');
  const config = {
    ...loadConfig({}),
    prefix: `bench-ws-${id}`,
    eventStream: `tickstock.events.bench-ws-${id}`,
    apiToken: TOKEN,
    port: 0,
    logLevel: 'warn' as const,
  };
  const child = fork(fileURLToPath(new URL('./ws-web.js', import.meta.url)), [], {
    env: { PATH: process.env.PATH, ...configEnvironment(config) },
    execArgv: ['--expose-gc'],
  });
  const redis = createRedis(config.redisUrl, 'producer', 'bench-ws');
  const producer = new Producer(redis, config.prefix);
  const reader = new QueueEvents('system', { connection: { url: config.redisUrl }, prefix: config.prefix });
  const clients: WebSocket[] = [];
  try {
    const { url } = await new Promise<{ url: string }>((resolve) => child.once('message', (m) => resolve(m as { url: string })));
    await reader.waitUntilReady();
    const enqueued = await producer.enqueue('noop', {});
    const job = (await producer.queue('system').getJob(enqueued.id)) as Job;

    const before = await ask<Memory>(child, 'memory');
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    const floor: number[] = [];
    const onProgress = (step: string) => {
      const sent = sentAt.get(step);
      if (sent !== undefined) latencies.push(performance.now() - sent);
    };
    const started = performance.now();
    for (let i = 0; i < CONNECTIONS; i += 50) {
      clients.push(
        ...(await Promise.all(Array.from({ length: Math.min(50, CONNECTIONS - i) }, () => subscriber(url, job.id!, onProgress)))),
      );
    }
    const connectSeconds = (performance.now() - started) / 1000;
    const after = await ask<Memory>(child, 'memory');

    reader.on('progress', ({ data }) => {
      const sent = sentAt.get((data as { currentStep: string }).currentStep);
      if (sent !== undefined) floor.push(performance.now() - sent);
    });
    for (let call = 0; call < PROGRESS_CALLS; call++) {
      const step = `step ${call}`;
      sentAt.set(step, performance.now());
      // What ctx.progress does in a worker: one updateProgress on the job.
      await job.updateProgress({
        progressPercent: Math.round((100 * call) / PROGRESS_CALLS),
        currentStep: step,
        symbol: null,
        estimatedCompletion: null,
      });
      await new Promise((resolve) => setTimeout(resolve, 1000 / CALLS_PER_SECOND));
    }
    const deadline = Date.now() + 30_000;
    while (latencies.length < PROGRESS_CALLS * CONNECTIONS && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    report({
      what: `connections opened and subscribed (${connectSeconds.toFixed(1)} s)`,
      value: after.connections,
      unit: 'clients',
    });
    report({ what: 'progress messages delivered', value: latencies.length, unit: `of ${PROGRESS_CALLS * CONNECTIONS}` });
    report({
      what: 'progress call → WebSocket client, p50',
      value: median(latencies),
      unit: 'ms',
      better: 'lower',
      baseline: { what: 'progress call → bare QueueEvents reader, p50', value: median(floor) },
    });
    report({
      what: 'progress call → WebSocket client, p99',
      value: quantile(latencies, 0.99),
      unit: 'ms',
      better: 'lower',
      baseline: {
        what: 'progress call → bare QueueEvents reader, p99 (target for the client: 50 ms)',
        value: quantile(floor, 0.99),
      },
    });
    report({
      what: 'web process heap per connection',
      value: (after.heapUsed + after.external - before.heapUsed - before.external) / CONNECTIONS / 1024,
      unit: 'KiB',
    });
    report({ what: 'web process RSS per connection', value: (after.rss - before.rss) / CONNECTIONS / 1024, unit: 'KiB' });
  } finally {
    for (const client of clients) client.terminate();
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.send('stop');
    await exited;
    await reader.close();
    for (const queue of ['system'] as const) await producer.queue(queue).obliterate({ force: true });
    await producer.close();
    await closeRedis(redis);
  }
}
