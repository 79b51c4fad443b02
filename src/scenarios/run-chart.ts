import type { Store } from '../store/store.js';
import type { ScenarioRunRow } from './runs.repository.js';
import { candlestickSvg, type ChartBand, type ChartBar } from './chart.js';
import { runSymbol } from './run-series.js';
import { isIntraday, type Timeframe } from '../bars/timeframes.js';

/** Most candles one chart draws; longer series show their latest bars. */
export const MAX_CHART_BARS = 1_500;

/**
 * Draws a symbol of a stored run as an SVG candlestick chart with volume, from the bars in
 * the run's sandbox schema; the daily chart shades the scenario's phases. Refuses with a
 * ConflictError when a later run has since replaced the symbol's bars in that schema.
 */
export async function runChart(
  store: Store,
  runId: string,
  options: { symbol?: string; timeframe?: Timeframe } = {},
): Promise<{ svg: string; run: ScenarioRunRow; symbol: string; timeframe: Timeframe }> {
  const { run, symbol, timeframe, series, sandbox, phases } = await runSymbol(store, runId, options);
  const bars: ChartBar[] = await sandbox.barsReader.latest({ symbol, timeframe, variant: series.variant }, MAX_CHART_BARS);
  const truncated = series.rows / run.symbols.length > bars.length;

  const bands: ChartBand[] =
    timeframe === '1d' && !truncated ? phases.map((p) => ({ label: p.name, start: p.start, end: p.end })) : [];
  const symbolReport = (
    run.report as { symbols: Array<{ symbol: string; passed: boolean; figures: { maxDrawdown: number; totalReturn: number } }> }
  ).symbols.find((s) => s.symbol === symbol);
  const figures = symbolReport
    ? ` · return ${(symbolReport.figures.totalReturn * 100).toFixed(1)} % · max drawdown ${(symbolReport.figures.maxDrawdown * 100).toFixed(1)} % · report ${symbolReport.passed ? 'passed' : 'failed'}`
    : '';
  const svg = candlestickSvg(bars, {
    title: `${run.scenario} · ${symbol} · ${timeframe}`,
    subtitle: `run ${run.id} · seed ${run.seed} · ${truncated ? `last ${bars.length} bars` : `${run.sessions} sessions from ${run.start_date}`}${figures}`,
    intraday: isIntraday(timeframe),
    bands,
  });
  return { svg, run, symbol, timeframe };
}
