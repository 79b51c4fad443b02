import type { Config } from '../config.js';
import type { QueueName } from '../queues/names.js';
import { Producer } from '../queues/producer.js';
import { closeRedis, createRedis } from '../redis.js';
import { progressView, waitForJob } from './wait.js';

interface BarsBody {
  origin: string;
  variant: string;
  bars: Array<{ ts: string; open: number; high: number; low: number; close: number; volume: number; vwap: number | null }>;
}

/**
 * The demo's bars step: aggregate the imported SPY minutes to every timeframe through the API,
 * then read session-aligned hours back through the cache, twice, to show the hit.
 */
export async function demoBars(config: Config, webUrl: string, headers: Record<string, string>, out: (line?: string) => void): Promise<void> {
  out('5. POST /api/jobs/aggregate-bars — SPY 1m to 5m … 1M, regular session, session-aligned');
  const posted = await fetch(`${webUrl}/api/jobs/aggregate-bars`, { method: 'POST', headers, body: JSON.stringify({ symbols: 'SPY' }) });
  const job = (await posted.json()) as { id: string; queue: QueueName; error?: string };
  if (posted.status !== 202) throw new Error(`the API refused the job: ${posted.status} ${job.error}`);
  const redis = createRedis(config.redisUrl, 'producer', 'tickforge-demo');
  const producer = new Producer(redis, config.prefix);
  try {
    const result = (await waitForJob(producer, config.redisUrl, job.queue, job.id, progressView('   aggregate', process.stdout))) as {
      symbols: Array<{ timeframes: Record<string, { bars: number }>; written: number; gaps: { missing: number; expected: number } }>;
    };
    const [spy] = result.symbols;
    const built = Object.entries(spy.timeframes).map(([timeframe, count]) => `${timeframe} ${count.bars}`);
    out(`   built ${built.join(', ')}; ${spy.written} rows written; ${spy.gaps.missing} of ${spy.gaps.expected} minutes missing`);
  } finally {
    await producer.close();
    await closeRedis(redis);
  }

  const url = `${webUrl}/api/bars?symbol=SPY&timeframe=1h`;
  out(`6. GET /api/bars?symbol=SPY&timeframe=1h — first session (09:30 … 15:30 New York, the last bar 30 minutes)`);
  const started = performance.now();
  const body = (await (await fetch(url, { headers })).json()) as BarsBody;
  const missMs = performance.now() - started;
  const firstDay = body.bars.filter((bar) => bar.ts.slice(0, 10) === body.bars[0]?.ts.slice(0, 10));
  for (const bar of firstDay) {
    out(`   ${bar.ts}  o=${bar.open} h=${bar.high} l=${bar.low} c=${bar.close} v=${bar.volume} vwap=${bar.vwap?.toFixed(3)}`);
  }
  const again = performance.now();
  await (await fetch(url, { headers })).text();
  out(`   ${body.origin} bars (variant '${body.variant}'): ${missMs.toFixed(1)} ms computed, ${(performance.now() - again).toFixed(1)} ms from the cache`);
}
