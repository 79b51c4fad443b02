import { ConflictError, NotFoundError, ValidationError } from '../shared/errors.js';
import type { Store } from '../store/store.js';
import type { ScenarioRunRow } from './runs.repository.js';
import { candlestickSvg, type ChartBand, type ChartBar } from './chart.js';
import type { Phase } from './model.js';
import { isIntraday, type Timeframe } from '../bars/timeframes.js';

/** Most candles one chart draws; longer series show their latest bars. */
export const MAX_CHART_BARS = 1_500;

interface SymbolDiagnostics {
  symbol: string;
  phases?: Phase[];
}

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
  const run = await store.scenarioRuns.find(runId);
  if (!run) throw new NotFoundError(`no scenario run ${runId}`);
  const symbol = options.symbol ?? run.symbols[0];
  if (!run.symbols.includes(symbol)) {
    throw new NotFoundError(
      `symbol ${symbol} is not part of run ${runId} (it has ${run.symbols.slice(0, 5).join(', ')}${run.symbols.length > 5 ? ', …' : ''})`,
    );
  }
  const stored = run.series.map((s) => s.timeframe);
  const timeframe = options.timeframe ?? (stored.includes('1d') ? '1d' : (run.timeframe as Timeframe));
  const series = run.series.find((s) => s.timeframe === timeframe);
  if (!series) {
    throw new ValidationError(
      [{ path: 'timeframe', message: `run ${runId} stored no ${timeframe} bars; it has ${stored.join(', ')}` }],
      'query',
    );
  }
  const sandbox = store.forSchema(run.target_schema);
  const owner = await sandbox.sandbox.owner(symbol);
  if (owner !== run.id) {
    throw new ConflictError(
      `${symbol} in schema ${run.target_schema} now holds ${owner ? `run ${owner}` : 'no scenario run'}; load run ${runId} again to chart it`,
    );
  }

  const bars: ChartBar[] = await sandbox.barsReader.latest({ symbol, timeframe, variant: series.variant }, MAX_CHART_BARS);
  const truncated = series.rows / run.symbols.length > bars.length;

  const diagnostics = (run.diagnostics as SymbolDiagnostics[]).find((d) => d.symbol === symbol);
  const bands: ChartBand[] =
    timeframe === '1d' && !truncated
      ? (diagnostics?.phases ?? []).map((p) => ({ label: p.name, start: p.start, end: p.end }))
      : [];
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
