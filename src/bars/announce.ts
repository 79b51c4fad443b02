import type { Publisher } from '../notify/publisher.js';
import type { BarsCache } from './cache.js';
import type { Timeframe } from './timeframes.js';

/** One series a job wrote: which bars, how many, and the first and last bar start (epoch ms). */
export interface WrittenSeries {
  symbol: string;
  timeframe: Timeframe;
  variant: string;
  rows: number;
  from?: number;
  to?: number;
}

const iso = (ts: number | undefined) => (ts === undefined ? null : new Date(ts).toISOString());

/**
 * Tells readers that bars changed, after the commit that wrote them: bumps the cache version of
 * exactly the series written (so no reader is served an answer computed before the write), then
 * publishes one tickstock.bars.updated per symbol. Every job that writes bars calls this.
 * Symbols go concurrently, so a 500-symbol import costs a few round trips, not a thousand.
 */
export async function announceBars(
  cache: BarsCache,
  publisher: Publisher,
  job: { id: string; name: string },
  written: readonly WrittenSeries[],
): Promise<void> {
  const bySymbol = new Map<string, WrittenSeries[]>();
  for (const series of written) bySymbol.set(series.symbol, [...(bySymbol.get(series.symbol) ?? []), series]);
  await Promise.all(
    [...bySymbol].map(async ([symbol, series]) => {
      await cache.bump(
        symbol,
        series.map((s) => s.timeframe),
      );
      const starts = series.flatMap((s) => (s.from === undefined ? [] : [s.from]));
      const ends = series.flatMap((s) => (s.to === undefined ? [] : [s.to]));
      await publisher.publish(
        'barsUpdated',
        {
          symbol,
          series: series.map((s) => ({ timeframe: s.timeframe, variant: s.variant, rows: s.rows })),
          from: iso(starts.length > 0 ? Math.min(...starts) : undefined),
          to: iso(ends.length > 0 ? Math.max(...ends) : undefined),
          job: job.name,
        },
        job.id,
      );
    }),
  );
}
