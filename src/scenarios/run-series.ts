import { NYSE } from '../shared/calendar.js';
import { ConflictError, NotFoundError, ValidationError } from '../shared/errors.js';
import { localMidnight } from '../shared/zone.js';
import type { Timeframe } from '../bars/timeframes.js';
import type { Store } from '../store/store.js';
import type { Phase } from './model.js';
import { phaseMeaning, type PhaseMeaning } from './phase-meaning.js';
import type { ScenarioRunRow } from './runs.repository.js';

/** Most bars one series answer holds; a wider range is refused with a message to narrow it. */
export const MAX_SERIES_BARS = 20_000;

/** A bar of a run (ts epoch ms). */
export interface RunBar {
  ts: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/** A phase of a run over [from, to) (epoch ms: New York midnight of its first session and of the next phase's). */
export interface RunPhase {
  name: string;
  meaning: PhaseMeaning;
  from: number;
  to: number;
}

interface SymbolDiagnostics {
  symbol: string;
  phases?: Phase[];
}

/**
 * The run, symbol and stored series a chart or a series answer is about: the symbol defaults
 * to the run's first, the timeframe to 1d (or the run's own). Refuses what the run does not
 * hold, and (ConflictError) a symbol a later run has replaced in the sandbox schema.
 */
export async function runSymbol(store: Store, runId: string, options: { symbol?: string; timeframe?: Timeframe }) {
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
      `${symbol} in schema ${run.target_schema} now holds ${owner ? `run ${owner}` : 'no scenario run'}; load run ${runId} again to see it`,
    );
  }
  const diagnostics = (run.diagnostics as SymbolDiagnostics[]).find((d) => d.symbol === symbol);
  return { run, symbol, timeframe, series, sandbox, phases: diagnostics?.phases ?? [] };
}

/** The phases of a run's symbol on the calendar: session indexes turned into instants. */
function phaseSpans(run: ScenarioRunRow, phases: readonly Phase[]): RunPhase[] {
  const first = NYSE.isSession(run.start_date) ? NYSE.session(run.start_date)! : NYSE.nextSession(run.start_date);
  const midnightOf = (offset: number) => {
    const session = NYSE.sessionAt(first.index + offset);
    return session ? localMidnight(session.date, 'America/New_York') : Infinity;
  };
  return phases.map((phase) => ({
    name: phase.name,
    meaning: phaseMeaning(phase),
    from: midnightOf(phase.start),
    to: midnightOf(phase.end),
  }));
}

/**
 * One symbol's bars of a stored run over [from, to) (epoch ms; the whole run when absent), with
 * the run's phases on the calendar. A range of more than `maxBars` bars is refused, except that
 * with `latest` and no range the run's last `maxBars` bars answer (`truncated` then says so).
 */
export async function runSeries(
  store: Store,
  runId: string,
  options: { symbol?: string; timeframe?: Timeframe; from?: number; to?: number; maxBars?: number; latest?: boolean } = {},
): Promise<{ run: ScenarioRunRow; symbol: string; timeframe: Timeframe; bars: RunBar[]; phases: RunPhase[]; truncated: boolean }> {
  const { run, symbol, timeframe, series, sandbox, phases } = await runSymbol(store, runId, options);
  const maxBars = options.maxBars ?? MAX_SERIES_BARS;
  const key = { symbol, timeframe, variant: series.variant };
  const rows = await sandbox.barsReader.rows(key, { from: options.from, to: options.to, withFills: false, limit: maxBars + 1 });
  const { ts, open, high, low, close, volume } = rows.bars;
  const truncated = ts.length > maxBars;
  const ranged = options.from !== undefined || options.to !== undefined;
  if (truncated && (ranged || !options.latest)) {
    throw new ValidationError(
      [{ path: 'from', message: `the range holds more than ${maxBars} ${timeframe} bars; narrow from/to` }],
      'query',
    );
  }
  const bars = truncated
    ? await sandbox.barsReader.latest(key, maxBars)
    : Array.from(ts, (t, i) => ({ ts: t, open: open[i], high: high[i], low: low[i], close: close[i], volume: volume[i] }));
  return { run, symbol, timeframe, bars, phases: phaseSpans(run, phases), truncated };
}
