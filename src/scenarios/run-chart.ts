import type { Store } from '../store/store.js';
import type { ScenarioRunRow } from './runs.repository.js';
import { candlestickSvg, type ChartBand } from './chart.js';
import { runSeries, type RunBar, type RunPhase } from './run-series.js';
import { isIntraday, type Timeframe } from '../bars/timeframes.js';
import { toWallClock } from '../shared/zone.js';

/** Most candles one chart draws: a run with more shows its latest bars unless from/to pick others. */
export const MAX_CHART_BARS = 1_500;

const ZONE = 'America/New_York';

/** The bars each phase covers, by index: a phase cut by the chart's range is shaded where it shows. */
function phaseBands(bars: readonly RunBar[], phases: readonly RunPhase[]): ChartBand[] {
  const firstAtOrAfter = (t: number) => {
    const index = bars.findIndex((bar) => bar.ts >= t);
    return index === -1 ? bars.length : index;
  };
  return phases.map((phase) => ({
    label: phase.name,
    meaning: phase.meaning,
    start: firstAtOrAfter(phase.from),
    end: firstAtOrAfter(phase.to),
  }));
}

/** A bar's time as the subtitle names it: the date, and for intraday bars the New York clock time. */
function barTime(ts: number, intraday: boolean): string {
  const wall = toWallClock(ts, ZONE);
  const pad = (n: number) => String(n).padStart(2, '0');
  const date = `${wall.year}-${pad(wall.month)}-${pad(wall.day)}`;
  return intraday ? `${date} ${pad(wall.hour)}:${pad(wall.minute)}` : date;
}

/**
 * Draws a symbol of a stored run as an SVG candlestick chart with volume and its phases shaded
 * by meaning, from the bars in the run's sandbox schema over [from, to) (epoch ms), or the whole
 * run — its latest MAX_CHART_BARS bars when it has more. A range of more bars is refused, and a
 * symbol a later run has replaced in that schema is a ConflictError.
 */
export async function runChart(
  store: Store,
  runId: string,
  options: { symbol?: string; timeframe?: Timeframe; from?: number; to?: number } = {},
): Promise<{ svg: string; run: ScenarioRunRow; symbol: string; timeframe: Timeframe }> {
  const { run, symbol, timeframe, bars, phases, truncated } = await runSeries(store, runId, {
    ...options,
    maxBars: MAX_CHART_BARS,
    latest: true,
  });
  const intraday = isIntraday(timeframe);
  const symbolReport = (
    run.report as { symbols: Array<{ symbol: string; passed: boolean; figures: { maxDrawdown: number; totalReturn: number } }> }
  ).symbols.find((s) => s.symbol === symbol);
  const figures = symbolReport
    ? ` · return ${(symbolReport.figures.totalReturn * 100).toFixed(1)} % · max drawdown ${(symbolReport.figures.maxDrawdown * 100).toFixed(1)} % · report ${symbolReport.passed ? 'passed' : 'failed'}`
    : '';
  const shown =
    bars.length === 0
      ? 'no bars in the range'
      : `${truncated ? `the last ${bars.length} bars` : `${bars.length} bars`}, ${barTime(bars[0].ts, intraday)} to ${barTime(bars[bars.length - 1].ts, intraday)}${intraday ? ' New York time' : ''}${truncated ? ' (from/to pick others)' : ''}`;
  const svg = candlestickSvg(bars, {
    title: `${run.scenario} · ${symbol} · ${timeframe}`,
    subtitle: `run ${run.id} · seed ${run.seed} · ${shown}${figures}`,
    intraday,
    bands: phaseBands(bars, phases),
    timeZone: ZONE,
  });
  return { svg, run, symbol, timeframe };
}
