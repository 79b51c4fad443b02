import pMap from 'p-map';
import { variantOf } from '../../src/bars/aggregate.js';
import { type BarColumns, type SeriesKey } from '../../src/bars/columns.js';
import { concatBars } from '../../src/bars/pages.js';
import { resolveRange } from '../../src/bars/ranges.js';
import { DETECTORS, lookbackOf, PATTERN_KEYS, type PatternKey } from '../../src/patterns/catalog.js';
import { detectPatternsContract, type DetectSymbolResult } from '../../src/patterns/detect-patterns.contract.js';
import type { DetectionRow } from '../../src/patterns/detections.repository.js';
import type { ContractParsedPayload } from '../../src/queues/contract.js';
import { NYSE } from '../../src/shared/calendar.js';
import { InputError } from '../../src/shared/errors.js';
import type { JobContext } from '../context.js';
import { defineHandler } from '../handler.js';

/** Symbols scanned at once, each written in its own transaction. */
const MAX_PARALLEL_SYMBOLS = 4;
/**
 * Bars of history read before the range: the longest lookback of every detector, whichever are
 * asked for, so a bar's candlestick running averages never depend on the patterns selected.
 */
export const HISTORY_BARS = lookbackOf(PATTERN_KEYS);
/** Most bars one symbol may have in the range (a bound on the memory a symbol takes). */
export const MAX_RANGE_BARS = 2_000_000;

type Payload = ContractParsedPayload<typeof detectPatternsContract>;

/** What one run covers: resolved once, the same for every symbol. */
interface Run {
  payload: Payload;
  from?: number;
  to?: number;
  /** The aggregate variant scanned where it exists. */
  variant: string;
  detectors: Array<{ pattern: PatternKey; version: string }>;
}

function resolveRun(payload: Payload): Run {
  const { from, to } = resolveRange(payload, payload.session, NYSE);
  return {
    payload,
    from,
    to,
    variant: variantOf(payload.timeframe, payload.session, 'session'),
    detectors: payload.patterns.map((pattern) => ({ pattern, version: DETECTORS[pattern].version })),
  };
}

/** The symbols to scan, and why there are none when there are none. */
async function symbolsOf(ctx: JobContext, run: Run): Promise<{ symbols: string[]; note?: string }> {
  const { payload } = run;
  if (payload.symbols) return { symbols: [...new Set(payload.symbols)] };
  if (payload.universe !== undefined) {
    if (!(await ctx.store.universes.get(payload.universe)))
      throw new InputError(`unknown universe ${JSON.stringify(payload.universe)}`);
    const symbols = (await ctx.store.universes.members(payload.universe)).map((member) => member.symbol);
    return symbols.length > 0 ? { symbols } : { symbols, note: `universe ${payload.universe} has no members` };
  }
  const found = await Promise.all(
    [run.variant, ''].map((variant) => ctx.store.barsReader.symbolsWithBars(payload.timeframe, variant, run.from, run.to)),
  );
  const symbols = [...new Set(found.flat())].sort();
  return symbols.length > 0 ? { symbols } : { symbols, note: `no symbol has ${payload.timeframe} bars in the range` };
}

/** The series of a symbol detection scans: the session's aggregates where they exist, else the bars stored as they came. */
async function seriesOf(ctx: JobContext, run: Run, symbol: string): Promise<SeriesKey> {
  const aggregate = { symbol, timeframe: run.payload.timeframe, variant: run.variant };
  return (await ctx.store.barsReader.exists(aggregate)) ? aggregate : { ...aggregate, variant: '' };
}

/** Why a symbol's first bars lack some patterns, when they do. */
function historyNote(run: Run, history: number, bars: number): string | undefined {
  if (bars === 0) return `no ${run.payload.timeframe} bars in the range`;
  const short = run.payload.patterns.filter((key) => DETECTORS[key].lookback > history);
  if (short.length === 0) return undefined;
  return `only ${history} bars before the range: the first bars of the range have no ${short.join(', ')} (they need up to ${lookbackOf(short)} bars of history)`;
}

interface SymbolOutcome extends DetectSymbolResult {
  counts: number[];
  written: number;
  removed: number;
}

/** Reads one symbol's bars with their history, detects in the pool and replaces its stored detections. */
async function detectSymbol(ctx: JobContext, run: Run, symbol: string): Promise<SymbolOutcome> {
  const key = await seriesOf(ctx, run, symbol);
  const { bars: range } = await ctx.store.barsReader.rows(key, {
    from: run.from,
    to: run.to,
    withFills: false,
    limit: MAX_RANGE_BARS + 1,
  });
  const length = range.ts.length;
  if (length > MAX_RANGE_BARS) {
    throw new InputError(
      `${symbol} has more than ${MAX_RANGE_BARS} ${run.payload.timeframe} bars in the range; detect over shorter ranges`,
    );
  }
  const counts = run.payload.patterns.map(() => 0);
  const empty = { symbol, variant: key.variant, bars: 0, history: 0, detections: 0, counts, written: 0, removed: 0 };
  if (length === 0) return { ...empty, note: historyNote(run, 0, 0) };
  const history = await ctx.store.barsReader.lastBefore(key, range.ts[0], HISTORY_BARS);
  const bars: BarColumns = concatBars(history, range);
  const ts = bars.ts;
  const input = { open: bars.open, high: bars.high, low: bars.low, close: bars.close, volume: bars.volume };
  const found = await ctx.kernels.run(
    'detect',
    { bars: input, keys: run.payload.patterns, from: history.ts.length },
    { transfer: Object.values(input).map((column) => column.buffer as ArrayBuffer), signal: ctx.signal },
  );
  const rows: DetectionRow[] = Array.from(found.bar, (bar, k) => {
    const value = found.value[k];
    counts[found.pattern[k]]++;
    return {
      ...key,
      ts: new Date(ts[bar]),
      pattern: run.payload.patterns[found.pattern[k]],
      detector_version: run.detectors[found.pattern[k]].version,
      direction: value > 0 ? 'bullish' : 'bearish',
      strength: Math.abs(value),
      job_id: ctx.job.id,
    };
  });
  const span = { from: run.from ?? range.ts[0], to: run.to ?? range.ts[length - 1] + 1 };
  const { written, removed } = await ctx.store.transaction((tx) => tx.patternDetections.replace(key, span, run.detectors, rows));
  const note = historyNote(run, history.ts.length, length);
  return {
    ...empty,
    bars: length,
    history: history.ts.length,
    detections: rows.length,
    written,
    removed,
    ...(note ? { note } : {}),
  };
}

/** detect-patterns: detectors over stored bars, one row per detection (see docs/patterns.md). */
export const detectPatternsHandler = defineHandler(detectPatternsContract, async (ctx, payload) => {
  const run = resolveRun(payload);
  const { symbols, note } = await symbolsOf(ctx, run);
  await ctx.progress(1, `detecting ${payload.patterns.length} patterns on ${symbols.length} symbols (${payload.timeframe})`);
  let done = 0;
  const outcomes = await pMap(
    symbols,
    async (symbol) => {
      const outcome = await detectSymbol(ctx, run, symbol);
      done++;
      await ctx.progress(1 + (98 * done) / symbols.length, `${symbol}: ${outcome.bars} bars, ${outcome.detections} detections`, {
        symbol,
      });
      return outcome;
    },
    { concurrency: Math.max(1, Math.min(MAX_PARALLEL_SYMBOLS, ctx.kernels.maxThreads)), signal: ctx.signal },
  );
  const counts = Object.fromEntries(
    payload.patterns.map((pattern, k) => [pattern, outcomes.reduce((sum, outcome) => sum + outcome.counts[k], 0)]),
  );
  const sum = (pick: (outcome: SymbolOutcome) => number) => outcomes.reduce((total, outcome) => total + pick(outcome), 0);
  const result = {
    timeframe: payload.timeframe,
    session: payload.session,
    from: run.from === undefined ? null : new Date(run.from).toISOString(),
    to: run.to === undefined ? null : new Date(run.to).toISOString(),
    patterns: payload.patterns,
    versions: Object.fromEntries(run.detectors.map(({ pattern, version }) => [pattern, version])),
    symbols: outcomes.map(({ counts: _counts, written: _written, removed: _removed, ...symbol }) => symbol),
    counts,
    totals: {
      symbols: outcomes.length,
      bars: sum((outcome) => outcome.bars),
      detections: sum((outcome) => outcome.detections),
      written: sum((outcome) => outcome.written),
      removed: sum((outcome) => outcome.removed),
    },
    ...(note ? { note } : sum((outcome) => outcome.bars) === 0 ? { note: `no ${payload.timeframe} bars in the range` } : {}),
  };
  await ctx.events.publish('patternsDetected', {
    timeframe: result.timeframe,
    from: result.from,
    to: result.to,
    symbols: result.totals.symbols,
    detections: result.totals.detections,
    counts,
    versions: result.versions,
    job: detectPatternsContract.name,
  });
  await ctx.progress(100);
  return result;
});
