import type { Knex } from 'knex';
import { SandboxRepository } from '../db/sandbox.repository.js';
import { ScenarioRunsRepository, type ScenarioRunRow } from '../db/scenario-runs.repository.js';
import { NYSE } from '../domain/calendar.js';
import type { Phase } from '../domain/scenario/model.js';
import type { Timeframe } from '../domain/timeframes.js';
import { localMidnight } from '../domain/zone.js';
import { phaseMeaning, type PhaseMeaning } from './phase-meaning.js';

/** Most bars one series answer holds; a wider range is refused with a message to narrow it. */
export const MAX_SERIES_BARS = 20_000;

/** A series that cannot be served, with the HTTP status that says why. */
export class RunSeriesError extends Error {
  constructor(
    readonly status: 400 | 404 | 409,
    message: string,
  ) {
    super(message);
    this.name = 'RunSeriesError';
  }
}

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

export interface RunSeries {
  run: ScenarioRunRow;
  symbol: string;
  timeframe: Timeframe;
  bars: RunBar[];
  phases: RunPhase[];
}

interface SymbolDiagnostics {
  symbol: string;
  phases?: Phase[];
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
 * One symbol's bars of a stored run over [from, to) (epoch ms; the whole run when absent), from
 * the run's sandbox schema, with the run's phases on the calendar. Refuses (409) when a later
 * run has replaced the symbol's bars in that schema, (400) a range of more than `maxBars` bars.
 */
export async function runSeries(
  db: Knex,
  runId: string,
  options: { symbol?: string; timeframe?: Timeframe; from?: number; to?: number; maxBars?: number } = {},
): Promise<RunSeries> {
  const run = await new ScenarioRunsRepository(db).find(runId);
  if (!run) throw new RunSeriesError(404, `no scenario run ${runId}`);
  const symbol = options.symbol ?? run.symbols[0];
  if (!run.symbols.includes(symbol)) {
    throw new RunSeriesError(
      404,
      `symbol ${symbol} is not part of run ${runId} (it has ${run.symbols.slice(0, 5).join(', ')}${run.symbols.length > 5 ? ', …' : ''})`,
    );
  }
  const stored = run.series.map((s) => s.timeframe);
  const timeframe = options.timeframe ?? (stored.includes('1d') ? '1d' : (run.timeframe as Timeframe));
  const series = run.series.find((s) => s.timeframe === timeframe);
  if (!series) throw new RunSeriesError(400, `run ${runId} stored no ${timeframe} bars; it has ${stored.join(', ')}`);
  const owner = await new SandboxRepository(db, run.target_schema).owner(symbol);
  if (owner !== run.id) {
    throw new RunSeriesError(
      409,
      `${symbol} in schema ${run.target_schema} now holds ${owner ? `run ${owner}` : 'no scenario run'}; load run ${runId} again to see it`,
    );
  }
  const maxBars = options.maxBars ?? MAX_SERIES_BARS;
  let query = db
    .withSchema(run.target_schema)
    .table('bars')
    .select<Array<Omit<RunBar, 'ts'> & { ts: Date }>>('ts', 'open', 'high', 'low', 'close', 'volume')
    .where({ symbol, timeframe, variant: series.variant });
  if (options.from !== undefined) query = query.andWhere('ts', '>=', new Date(options.from));
  if (options.to !== undefined) query = query.andWhere('ts', '<', new Date(options.to));
  const rows = await query.orderBy('ts').limit(maxBars + 1);
  if (rows.length > maxBars) {
    throw new RunSeriesError(400, `the range holds more than ${maxBars} ${timeframe} bars; narrow from/to`);
  }
  const diagnostics = (run.diagnostics as SymbolDiagnostics[]).find((d) => d.symbol === symbol);
  return {
    run,
    symbol,
    timeframe,
    bars: rows.map((row) => ({ ...row, ts: row.ts.getTime() })),
    phases: phaseSpans(run, diagnostics?.phases ?? []),
  };
}
