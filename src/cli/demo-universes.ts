import path from 'node:path';
import type { DemoTour } from './demo-tour.js';
import { JobFailedError } from './wait.js';

const SP500_CONSTITUENTS = 'universe/sp500_constituents_2018-02-08.csv';
const US_ETFS = 'universe/us_etfs_2021.csv';
const SP500_DAILY = 'equity_daily/sp500_5yr_daily.csv.gz';
/** The last session of the S&P 500 daily file. */
const SYNC_DATE = '2018-02-07';

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
export async function demoUniverses(tour: DemoTour): Promise<void> {
  const files = [SP500_CONSTITUENTS, US_ETFS, SP500_DAILY].map((file) => tour.dataFile(file));
  if (!files.every((file) => file !== undefined)) {
    tour.heading('universes: skipped (the sample data under ../shared/data is missing)');
    return;
  }
  const [constituents, etfs, daily] = files as string[];
  tour.heading(`POST /api/jobs/import-symbols — ${path.basename(constituents)} and ${path.basename(etfs)}`);
  for (const file of [constituents, etfs]) {
    const result = await tour.run('import-symbols', { file });
    tour.say(
      `   ${path.basename(file)} (${result.layout} layout): ${result.inserted} new, ${result.updated} updated, ${result.unchanged} unchanged; ` +
        `ignored columns: ${(result.ignoredColumns as string[]).length}`,
    );
  }

  tour.heading(`POST /api/jobs/import-bars — ${path.basename(daily)} (five years of daily bars, 505 stocks)`);
  const bars = await tour.run('import-bars', { file: daily, timeframe: '1d' });
  tour.say(`   ${bars.rowsRead} rows: ${bars.written} written, ${bars.unchanged} already stored, ${bars.rejectedCount} rejected`);

  tour.heading(`POST /api/jobs/eod-sync — the end-of-day universe sync for ${SYNC_DATE} (a flow of five tasks)`);
  try {
    const summary = await tour.run('eod-sync', { date: SYNC_DATE });
    const tasks = summary.tasks as Record<string, { added: number; removed: number; updated: number }>;
    tour.say(`   ${summary.changes} changes in ${summary.duration_ms} ms (market caps recalculated: ${summary.symbols_updated})`);
    for (const [task, counts] of Object.entries(tasks)) {
      tour.say(`   ${task.padEnd(26)} +${counts.added} −${counts.removed} ~${counts.updated}`);
    }
  } catch (error) {
    if (!(error instanceof JobFailedError)) throw error;
    tour.say(`   the sync did not run: ${error.reason}`);
  }

  tour.heading('GET /api/universes');
  const { universes } = await tour.get<{ universes: Array<{ key: string; members: number; flagged: number }> }>('/api/universes');
  for (const universe of universes) {
    tour.say(
      `   ${universe.key.padEnd(36)} ${String(universe.members).padStart(5)} members${universe.flagged ? `, ${universe.flagged} flagged` : ''}`,
    );
  }
  const top = await tour.get<{ members: Member[] }>(`/api/universes/top_100?asOf=${SYNC_DATE}`);
  const largest = [...top.members].sort((a, b) => (b.market_cap ?? 0) - (a.market_cap ?? 0)).slice(0, 5);
  tour.say(`   top_100 on ${SYNC_DATE}, largest five: ${largest.map((m) => `${m.symbol} ${billions(m.market_cap)}`).join(', ')}`);
  const changes = await tour.get<{ changes: Array<{ symbol: string; change: string; reason: string }> }>(
    '/api/universes/etf_commodities/changes?limit=3',
  );
  for (const change of changes.changes) tour.say(`   etf_commodities ${change.change} ${change.symbol}: ${change.reason}`);
}
