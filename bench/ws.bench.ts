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
/** How often the busy job calls progress, and how many times, in each round. */
const RATES = [
  { perSecond: 5, calls: 100 },
  { perSecond: 20, calls: 200 },
];
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

/** Starts the measured web process, or with `bare` the baseline `ws` server; resolves with it and its URL. */
async function serve(env: NodeJS.ProcessEnv, bare: boolean): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(fileURLToPath(new URL('./ws-web.js', import.meta.url)), [], {
    env: { ...env, ...(bare ? { BENCH_WS_BARE: '1' } : {}) },
    execArgv: ['--expose-gc'],
  });
  const { url } = await new Promise<{ url: string }>((resolve) => child.once('message', (m) => resolve(m as { url: string })));
  return { child, url };
}

async function stop(child: ChildProcess, clients: WebSocket[]): Promise<void> {
  for (const client of clients.splice(0)) client.terminate();
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.send('stop');
  await exited;
}

/** Opens CONNECTIONS clients, 50 at a time. */
async function openClients(url: string, jobId: string, onProgress: (step: string) => void): Promise<WebSocket[]> {
  const clients: WebSocket[] = [];
  for (let i = 0; i < CONNECTIONS; i += 50) {
    const batch = Array.from({ length: Math.min(50, CONNECTIONS - i) }, () => subscriber(url, jobId, onProgress));
    clients.push(...(await Promise.all(batch)));
  }
  return clients;
}

/**
 * Makes `calls` progress calls at `perSecond` through `call` and waits until every client got
 * each; returns the latencies from each call to each client.
 */
async function rounds(
  calls: number,
  perSecond: number,
  sentAt: Map<string, number>,
  latencies: number[],
  call: (step: string, percent: number) => Promise<void>,
): Promise<number[]> {
  latencies.length = 0;
  for (let index = 0; index < calls; index++) {
    const step = `${perSecond}/s step ${index}`;
    sentAt.set(step, performance.now());
    await call(step, Math.round((100 * index) / calls));
    await new Promise((resolve) => setTimeout(resolve, 1000 / perSecond));
  }
  const deadline = Date.now() + 30_000;
  while (latencies.length < calls * CONNECTIONS && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return [...latencies];
}

/**
 * 1,000 WebSocket clients of one web process follow one busy job: the latency from the job's
 * progress call to each client (p50/p99), beside a bare `ws` server sending the same messages to
 * 1,000 clients (what the library and the machine allow) and a bare QueueEvents reader (BullMQ's
 * event stream, the floor every web process reads from); and the web process's memory per
 * connection.
 */
export async function run(): Promise<void> {
  section(`WebSocket: ${CONNECTIONS.toLocaleString('en-US')} clients following one busy job`);
  const id = randomBytes(4).toString('hex');
  const config = {
    ...loadConfig({}),
    prefix: `bench-ws-${id}`,
    eventStream: `tickstock.events.bench-ws-${id}`,
    apiToken: TOKEN,
    port: 0,
    logLevel: 'warn' as const,
  };
  const env = { PATH: process.env.PATH, ...configEnvironment(config) };
  const redis = createRedis(config, 'producer', 'bench-ws');
  const producer = new Producer(redis, config.prefix);
  const reader = new QueueEvents('system', { connection: { url: config.redisUrl }, prefix: config.prefix });
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const floor: number[] = [];
  const onProgress = (step: string) => {
    const sent = sentAt.get(step);
    if (sent !== undefined) latencies.push(performance.now() - sent);
  };
  reader.on('progress', ({ data }) => {
    const sent = sentAt.get((data as { currentStep: string }).currentStep);
    if (sent !== undefined) floor.push(performance.now() - sent);
  });
  try {
    await reader.waitUntilReady();
    const enqueued = await producer.enqueue('noop', {});
    const job = (await producer.queue('system').getJob(enqueued.id)) as Job;

    const web = await serve(env, false);
    const before = await ask<Memory>(web.child, 'memory');
    const started = performance.now();
    const clients = await openClients(web.url, job.id!, onProgress);
    const connectSeconds = (performance.now() - started) / 1000;
    const after = await ask<Memory>(web.child, 'memory');
    const measured: number[][] = [];
    const floors: number[][] = [];
    for (const { calls, perSecond } of RATES) {
      floor.length = 0;
      measured.push(
        await rounds(calls, perSecond, sentAt, latencies, async (step, percent) => {
          // What ctx.progress does in a worker: one updateProgress on the job.
          await job.updateProgress({ progressPercent: percent, currentStep: step, symbol: null, estimatedCompletion: null });
        }),
      );
      floors.push([...floor]);
    }
    await stop(web.child, clients);

    const bare = await serve(env, true);
    const bareClients = await openClients(bare.url, job.id!, onProgress);
    const baseline: number[][] = [];
    for (const { calls, perSecond } of RATES) {
      baseline.push(
        await rounds(calls, perSecond, sentAt, latencies, async (step, percent) => {
          const text = JSON.stringify({
            subscription: 'busy',
            type: 'noop_progress',
            id: '0-0',
            queue: 'system',
            jobId: job.id,
            name: 'noop',
            progressPercent: percent,
            currentStep: step,
            symbol: null,
            estimatedCompletion: null,
          });
          bare.child.send({ broadcast: text });
        }),
      );
    }
    await stop(bare.child, bareClients);

    report({
      what: `connections opened and subscribed (${connectSeconds.toFixed(1)} s)`,
      value: after.connections,
      unit: 'clients',
    });
    RATES.forEach(({ calls, perSecond }, i) => {
      const load = `${perSecond} calls/s = ${(perSecond * CONNECTIONS).toLocaleString('en-US')} messages/s`;
      report({ what: `progress messages delivered (${load})`, value: measured[i].length, unit: `of ${calls * CONNECTIONS}` });
      for (const [label, q] of [
        ['p50', 0.5],
        ['p99', 0.99],
      ] as const) {
        report({
          what: `progress call → WebSocket client, ${label} (${load}${label === 'p99' ? '; target 50 ms' : ''})`,
          value: quantile(measured[i], q),
          unit: 'ms',
          better: 'lower',
          baseline: {
            what: `bare ws server sending the same to ${CONNECTIONS} clients, ${label}`,
            value: quantile(baseline[i], q),
          },
        });
      }
      report({
        what: `progress call → bare QueueEvents reader, p50 / p99 (${load})`,
        value: median(floors[i]),
        unit: `ms / ${quantile(floors[i], 0.99).toFixed(1)} ms`,
      });
    });
    report({
      what: 'web process heap per connection',
      value: (after.heapUsed + after.external - before.heapUsed - before.external) / CONNECTIONS / 1024,
      unit: 'KiB',
    });
    report({ what: 'web process RSS per connection', value: (after.rss - before.rss) / CONNECTIONS / 1024, unit: 'KiB' });
  } finally {
    await reader.close();
    await producer.queue('system').obliterate({ force: true });
    await producer.close();
    await closeRedis(redis);
  }
}
