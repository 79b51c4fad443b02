import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import type { QueueName } from '../queues/names.js';
import { Producer } from '../queues/producer.js';
import { closeRedis, createRedis } from '../redis.js';
import { JobFailedError, progressView, waitForJob } from './wait.js';

const SP500_CONSTITUENTS = 'universe/sp500_constituents_2018-02-08.csv';
const US_ETFS = 'universe/us_etfs_2021.csv';
const SP500_DAILY = 'equity_daily/sp500_5yr_daily.csv.gz';
/** The last session of the S&P 500 daily file. */
const SYNC_DATE = '2018-02-07';

export interface UniversesTourOptions {
  config: Config;
  /** Base URL of the running API and a token that may write. */
  url: string;
  token: string;
  out: (line?: string) => void;
  /** Number of the tour's first step, to continue the demo's numbering. */
  firstStep: number;
}

interface Member {
  symbol: string;
  name: string | null;
  market_cap: number | null;
  flags: Record<string, unknown>;
}

const billions = (value: number | null) => (value === null ? 'n/a' : `${(value / 1e9).toFixed(1)} B`);

/**
 * The universes part of the demo: load the S&P 500 and US ETF reference files and five years
 * of S&P 500 daily bars through the API, run the end-of-day sync for 2018-02-07, and show the
 * universes it built. Skipped when the sample data is missing.
 */
export async function runUniversesTour(options: UniversesTourOptions): Promise<void> {
  const { config, url, token, out } = options;
  const files = [SP500_CONSTITUENTS, US_ETFS, SP500_DAILY].map((file) => (config.dataDir ? path.join(config.dataDir, file) : ''));
  if (!files.every((file) => file && existsSync(file))) {
    out(`${options.firstStep}. universes: skipped (the sample data under ../shared/data is missing)`);
    return;
  }
  const [constituents, etfs, daily] = files;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const redis = createRedis(config.redisUrl, 'producer', 'tickforge-demo');
  const producer = new Producer(redis, config.prefix);
  let step = options.firstStep;

  const runJob = async (name: string, payload: unknown): Promise<Record<string, unknown>> => {
    const posted = await fetch(`${url}/api/jobs/${name}`, { method: 'POST', headers, body: JSON.stringify(payload) });
    const job = (await posted.json()) as { id: string; queue: QueueName; error?: string };
    if (posted.status !== 202) throw new Error(`the API refused ${name}: ${posted.status} ${job.error}`);
    return (await waitForJob(producer, config.redisUrl, job.queue, job.id, progressView(`   ${name}`, process.stdout))) as Record<
      string,
      unknown
    >;
  };
  const get = async <T>(route: string): Promise<T> => {
    const response = await fetch(`${url}${route}`, { headers });
    if (!response.ok) throw new Error(`GET ${route}: ${response.status}`);
    return (await response.json()) as T;
  };

  try {
    out(`${step++}. POST /api/jobs/import-symbols — ${path.basename(constituents)} and ${path.basename(etfs)}`);
    for (const file of [constituents, etfs]) {
      const result = await runJob('import-symbols', { file });
      out(
        `   ${path.basename(file)} (${result.layout} layout): ${result.inserted} new, ${result.updated} updated, ${result.unchanged} unchanged; ` +
          `ignored columns: ${(result.ignoredColumns as string[]).length}`,
      );
    }

    out(`${step++}. POST /api/jobs/import-bars — ${path.basename(daily)} (five years of daily bars, 505 stocks)`);
    const bars = await runJob('import-bars', { file: daily, timeframe: '1d' });
    out(`   ${bars.rowsRead} rows: ${bars.written} written, ${bars.unchanged} already stored, ${bars.rejectedCount} rejected`);

    out(`${step++}. POST /api/jobs/eod-sync — the end-of-day universe sync for ${SYNC_DATE} (a flow of five tasks)`);
    try {
      const summary = await runJob('eod-sync', { date: SYNC_DATE });
      const tasks = summary.tasks as Record<string, { added: number; removed: number; updated: number }>;
      out(`   ${summary.changes} changes in ${summary.duration_ms} ms (market caps recalculated: ${summary.symbols_updated})`);
      for (const [task, counts] of Object.entries(tasks)) {
        out(`   ${task.padEnd(26)} +${counts.added} −${counts.removed} ~${counts.updated}`);
      }
    } catch (error) {
      if (!(error instanceof JobFailedError)) throw error;
      out(`   the sync did not run: ${error.reason}`);
    }

    out(`${step++}. GET /api/universes`);
    const { universes } = await get<{ universes: Array<{ key: string; members: number; flagged: number }> }>('/api/universes');
    for (const universe of universes) {
      out(`   ${universe.key.padEnd(36)} ${String(universe.members).padStart(5)} members${universe.flagged ? `, ${universe.flagged} flagged` : ''}`);
    }
    const top = await get<{ members: Member[] }>(`/api/universes/top_100?asOf=${SYNC_DATE}`);
    const largest = [...top.members].sort((a, b) => (b.market_cap ?? 0) - (a.market_cap ?? 0)).slice(0, 5);
    out(`   top_100 on ${SYNC_DATE}, largest five: ${largest.map((m) => `${m.symbol} ${billions(m.market_cap)}`).join(', ')}`);
    const changes = await get<{ changes: Array<{ symbol: string; change: string; reason: string }> }>(
      '/api/universes/etf_commodities/changes?limit=3',
    );
    for (const change of changes.changes) out(`   etf_commodities ${change.change} ${change.symbol}: ${change.reason}`);
  } finally {
    await producer.close();
    await closeRedis(redis);
  }
}
