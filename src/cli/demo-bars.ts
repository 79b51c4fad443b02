import type { DemoTour } from './demo-tour.js';

interface BarsBody {
  origin: string;
  variant: string;
  bars: Array<{ ts: string; open: number; high: number; low: number; close: number; volume: number; vwap: number | null }>;
}

/**
 * The bars step: aggregate the imported SPY minutes to every timeframe, then read the
 * session-aligned hours back through the cache, twice, to show the hit.
 */
export async function demoBars(tour: DemoTour): Promise<void> {
  tour.heading('POST /api/jobs/aggregate-bars — SPY 1m to 5m … 1M, regular session, session-aligned');
  const result = await tour.run<{
    symbols: Array<{
      timeframes: Record<string, { bars: number }>;
      written: number;
      gaps: { missing: number; expected: number };
    }>;
  }>('aggregate-bars', { symbols: 'SPY' }, 'aggregate');
  const [spy] = result.symbols;
  const built = Object.entries(spy.timeframes).map(([timeframe, count]) => `${timeframe} ${count.bars}`);
  tour.say(
    `   built ${built.join(', ')}; ${spy.written} rows written; ${spy.gaps.missing} of ${spy.gaps.expected} minutes missing`,
  );

  const route = '/api/bars?symbol=SPY&timeframe=1h';
  tour.heading(`GET ${route} — first session (09:30 … 15:30 New York, the last bar 30 minutes)`);
  const started = performance.now();
  const body = await tour.get<BarsBody>(route);
  const missMs = performance.now() - started;
  const firstDay = body.bars.filter((bar) => bar.ts.slice(0, 10) === body.bars[0]?.ts.slice(0, 10));
  for (const bar of firstDay) {
    tour.say(
      `   ${bar.ts}  o=${bar.open} h=${bar.high} l=${bar.low} c=${bar.close} v=${bar.volume} vwap=${bar.vwap?.toFixed(3)}`,
    );
  }
  const again = performance.now();
  await tour.get(route);
  tour.say(
    `   ${body.origin} bars (variant '${body.variant}'): ${missMs.toFixed(1)} ms computed, ${(performance.now() - again).toFixed(1)} ms from the cache`,
  );
}
