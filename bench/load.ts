/**
 * `npm run load`: a bounded load test on loopback. Starts a web process and two worker
 * processes, enqueues 100,000 no-op and small jobs in bulk through the HTTP API and measures
 * how fast they drain; then offers a steady rate below capacity and measures enqueue-to-start
 * latency; then reads GET /api/bars (cached) with 20 concurrent connections; samples every
 * process's RSS once a second throughout.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import autocannon from 'autocannon';
import { Queue } from 'bullmq';
import { loadConfig, type Config } from '../src/shared/config.js';
import { createDb, dbSettings, ident, migrateLatest } from '../src/shared/db.js';
import { clearRedis } from '../test/helpers/redis.js';
import { startProcess, type TestProcess } from '../test/helpers/process.js';
import { report, section } from './report.js';

const TOTAL_JOBS = Number(process.env.LOAD_JOBS ?? 100_000);
const BULK = 1_000;
const STEADY_RATE = Number(process.env.LOAD_RATE ?? 400);
const STEADY_SECONDS = 20;
const TIME_LIMIT_MS = 10 * 60_000;
const BARS_CONNECTIONS = 20;
const BARS_SECONDS = 10;
const TOKEN = randomBytes(24).toString('hex');

interface RssSample {
  at: number;
  rssMb: Record<string, number>;
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

/** Bucket counts of tickforge_job_wait_seconds for the system queue, from the aggregated /metrics. */
async function waitHistogram(url: string): Promise<Map<number, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const buckets = new Map<number, number>();
  for (const match of text.matchAll(/^tickforge_job_wait_seconds_bucket\{(.*)\} (\d+)$/gm)) {
    if (!match[1].includes('queue="system"')) continue;
    const le = /le="([^"]+)"/.exec(match[1])![1];
    const bound = le === '+Inf' ? Infinity : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + Number(match[2]));
  }
  return buckets;
}

/** The upper bound of the bucket holding the q-quantile of the difference of two cumulative histograms. */
function histogramQuantile(before: Map<number, number>, after: Map<number, number>, q: number): number {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const total = (after.get(Infinity) ?? 0) - (before.get(Infinity) ?? 0);
  for (const bound of bounds) {
    if ((after.get(bound) ?? 0) - (before.get(bound) ?? 0) >= q * total) return bound;
  }
  return Infinity;
}

async function untilDrained(queue: Queue, deadline: number): Promise<void> {
  for (;;) {
    const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    if (counts.waiting + counts.active + counts.delayed + counts.prioritized === 0) return;
    if (Date.now() > deadline) throw new Error(`load test exceeded its time limit with ${JSON.stringify(counts)} left`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Submits a job over the API and polls its status until it ends. */
async function runJob(url: string, headers: Record<string, string>, name: string, payload: unknown): Promise<void> {
  const posted = await fetch(`${url}/api/jobs/${name}`, { method: 'POST', headers, body: JSON.stringify(payload) });
  const job = (await posted.json()) as { id: string; queue: string };
  for (;;) {
    const status = (await (await fetch(`${url}/api/jobs/${job.queue}/${job.id}`, { headers })).json()) as {
      state: string;
      failedReason: string;
    };
    if (status.state === 'completed') return;
    if (status.state === 'failed') throw new Error(`${name} failed: ${status.failedReason}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Concurrent cached reads of GET /api/bars (SPY minute bars aggregated to hours), with autocannon. */
async function barsApiLoad(url: string, headers: Record<string, string>): Promise<void> {
  const file = loadConfig().dataDir
    ? path.join(loadConfig().dataDir!, 'equity_1min/spy_1min_trade_2013-10-04_2013-10-11.csv')
    : undefined;
  if (!file || !existsSync(file)) {
    process.stdout.write('\n  bars API load skipped: the sample SPY minute file is missing\n');
    return;
  }
  section(`load: GET /api/bars cached reads, ${BARS_CONNECTIONS} connections for ${BARS_SECONDS} s`);
  await runJob(url, headers, 'import-bars', { file, symbol: 'SPY', timeframe: '1m' });
  await runJob(url, headers, 'aggregate-bars', { symbols: ['SPY'] });
  const route = `${url}/api/bars?symbol=SPY&timeframe=1h`;
  await fetch(route, { headers });
  const result = await autocannon({ url: route, headers, connections: BARS_CONNECTIONS, duration: BARS_SECONDS });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`bars API load saw ${result.non2xx} non-2xx answers and ${result.errors} errors`);
  report({ what: 'cached GET /api/bars (42 hourly bars)', value: result.requests.average, unit: 'requests/s' });
  report({ what: 'cached GET /api/bars latency p50', value: result.latency.p50, unit: 'ms', better: 'lower' });
  report({ what: 'cached GET /api/bars latency p99', value: result.latency.p99, unit: 'ms', better: 'lower' });
}

async function main(): Promise<void> {
  const id = randomBytes(4).toString('hex');
  const config: Config = {
    ...loadConfig(),
    dbSchema: `load_${id}`,
    prefix: `load-${id}`,
    apiToken: TOKEN,
    port: 0,
    rateLimitPerMinute: 10_000_000,
    workerConcurrency: 16,
  };
  const deadline = Date.now() + TIME_LIMIT_MS;
  await migrateLatest(dbSettings(config));
  const processes: Record<string, TestProcess> = {
    web: startProcess('web', config),
    worker1: startProcess('worker', config),
    worker2: startProcess('worker', config),
  };
  const queue = new Queue('system', { connection: { url: config.redisUrl }, prefix: config.prefix });
  const samples: RssSample[] = [];
  const sampler = setInterval(() => {
    samples.push({
      at: Date.now(),
      rssMb: Object.fromEntries(Object.entries(processes).map(([name, child]) => [name, rssMb(child.child.pid!)])),
    });
  }, 1_000);
  try {
    const listening = await processes.web.waitForLine((line) => /web listening on/.test(line.msg ?? ''));
    const url = /(http:\/\/[\d.:]+)/.exec(String(listening.msg))![1];
    await Promise.all(
      [processes.worker1, processes.worker2].map((worker) => worker.waitForLine((line) => /serving/.test(line.msg ?? ''))),
    );
    const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

    section(`load: ${TOTAL_JOBS.toLocaleString('en-US')} jobs through the API, two worker processes (concurrency 16 each)`);
    const started = performance.now();
    for (let sent = 0; sent < TOTAL_JOBS; sent += BULK) {
      // One job in ten is a small one: 2 ms of CPU in the kernel pool.
      const payloads = Array.from({ length: Math.min(BULK, TOTAL_JOBS - sent) }, (_, i) => (i % 10 === 0 ? { cpuMs: 2 } : {}));
      const response = await fetch(`${url}/api/jobs/noop/bulk`, { method: 'POST', headers, body: JSON.stringify({ payloads }) });
      if (response.status !== 202) throw new Error(`bulk enqueue answered ${response.status}: ${await response.text()}`);
    }
    const enqueued = performance.now();
    await untilDrained(queue, deadline);
    const drained = performance.now();
    report({
      what: 'enqueue through POST /api/jobs/noop/bulk (1,000 a request)',
      value: TOTAL_JOBS / ((enqueued - started) / 1000),
      unit: 'jobs/s',
    });
    report({
      what: 'throughput, first enqueue to last completion',
      value: TOTAL_JOBS / ((drained - started) / 1000),
      unit: 'jobs/s',
    });

    section(`load: steady ${STEADY_RATE} jobs/s for ${STEADY_SECONDS} s (below capacity), enqueue-to-start latency`);
    // Workers relay their metrics every 5 s: let a relay cover the burst before the baseline scrape.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    const before = await waitHistogram(url);
    const tick = 100;
    const perTick = Math.max(1, Math.round((STEADY_RATE * tick) / 1000));
    const steadyStart = Date.now();
    const refused: string[] = [];
    let steadyRequests = 0;
    for (let next = steadyStart; next < steadyStart + STEADY_SECONDS * 1000; next += tick) {
      const payloads = Array.from({ length: perTick }, () => ({}));
      const response = await fetch(`${url}/api/jobs/noop/bulk`, { method: 'POST', headers, body: JSON.stringify({ payloads }) });
      steadyRequests++;
      if (response.status !== 202) refused.push(`${response.status} ${(await response.text()).slice(0, 100)}`);
      const wait = next + tick - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    if (refused.length > 0)
      throw new Error(
        `${refused.length} of ${steadyRequests} steady-phase requests were refused: ${refused.slice(0, 3).join('; ')}`,
      );
    await untilDrained(queue, deadline);
    // A figure over jobs that failed would flatter the system: every job must have completed.
    const failed = await queue.getJobCountByTypes('failed');
    if (failed > 0) throw new Error(`${failed} jobs failed under load; the figures would not describe a working system`);
    process.stdout.write(`  all ${steadyRequests} steady-phase requests accepted; no job failed\n`);
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    const after = await waitHistogram(url);
    report({
      what: 'enqueue-to-start latency p50 (histogram bucket bound)',
      value: histogramQuantile(before, after, 0.5) * 1000,
      unit: 'ms',
      better: 'lower',
    });
    report({
      what: 'enqueue-to-start latency p99 (histogram bucket bound)',
      value: histogramQuantile(before, after, 0.99) * 1000,
      unit: 'ms',
      better: 'lower',
    });

    await barsApiLoad(url, headers);

    section('load: resident memory (MB) over the run');
    const at = (fraction: number) => samples[Math.min(samples.length - 1, Math.floor(fraction * (samples.length - 1)))];
    for (const name of Object.keys(processes)) {
      const points = [0, 0.25, 0.5, 0.75, 1].map((fraction) => at(fraction).rssMb[name].toFixed(0));
      process.stdout.write(`  ${name}: ${points.join(' → ')} MB (start, 25 %, 50 %, 75 %, end of ${samples.length} s)\n`);
    }
  } finally {
    clearInterval(sampler);
    const exits = await Promise.all(Object.values(processes).map((child) => child.stop('SIGTERM', 60_000)));
    process.stdout.write(`  processes stopped with exit codes ${exits.map((exit) => exit.code).join(', ')}\n`);
    await queue.close();
    await clearRedis(config);
    const db = createDb(dbSettings(config));
    await db.raw(`DROP SCHEMA IF EXISTS ${ident(config.dbSchema)} CASCADE`);
    await db.destroy();
  }
}

await main();
