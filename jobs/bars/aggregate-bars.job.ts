import pMap from 'p-map';
import type { WrittenSeries } from '../../src/bars/announce.js';
import { derivableTargets, variantOf, type AggregateStats } from '../../src/bars/aggregate.js';
import { concatBars, isEmptyBarPage } from '../../src/bars/pages.js';
import { allocateBars, barBuffers, type BarColumns } from '../../src/bars/columns.js';
import { NYSE } from '../../src/shared/calendar.js';
import { emptyGapReport, mergeGapReports } from '../../src/bars/gaps.js';
import { resolveRange } from '../../src/bars/ranges.js';
import { periodBounds } from '../../src/bars/sessions.js';
import { INTRADAY_MINUTES, timeframeRank, type Timeframe } from '../../src/bars/timeframes.js';
import type { ChunkPlan, TimeframeCount } from '../../src/bars/aggregate-chunk.task.js';
import { aggregateBarsContract, type AggregateSymbolResult } from '../../src/bars/aggregate-bars.contract.js';
import type { ContractParsedPayload } from '../../src/queues/contract.js';
import { InputError } from '../../src/shared/errors.js';
import { didYouMean, sameButCase } from '../../src/shared/suggest.js';
import { localDate } from '../../src/shared/zone.js';
import type { JobContext } from '../context.js';
import { defineHandler } from '../handler.js';

/** Gappy sessions listed per symbol in the result (all are counted). */
export const GAPPY_SESSIONS_LISTED = 20;
/** Symbols aggregated at once, each in its own transaction on its own connection. */
const MAX_PARALLEL_SYMBOLS = 4;

type Payload = ContractParsedPayload<typeof aggregateBarsContract>;

/** What one run covers: resolved once, the same for every symbol. */
interface Run {
  payload: Payload;
  targets: Timeframe[];
  chunkTargets: Timeframe[];
  finalTargets: Timeframe[];
  from?: number;
  to?: number;
}

function resolveRun(payload: Payload): Run {
  const targets = [...new Set(payload.targets ?? derivableTargets(payload.source))].sort(
    (a, b) => timeframeRank(a) - timeframeRank(b),
  );
  const { from, to } = resolveRange(payload, payload.session, NYSE);
  return {
    payload,
    targets,
    chunkTargets: targets.filter((target) => INTRADAY_MINUTES[target] !== undefined || target === '1d'),
    finalTargets: targets.filter((target) => target === '2d' || target === '1w' || target === '1M'),
    from,
    to,
  };
}

/**
 * Aggregates one symbol in one transaction: pages of base bars (keyset over the primary key)
 * go through the kernel in the pool chunk by chunk and the results are written as they come:
 * COPYed straight into the table when the symbol has no stored bar of any target in the range,
 * else staged and merged with one INSERT … ON CONFLICT at the end. The read range is widened to whole periods of the
 * coarsest target, so a stored weekly or monthly bar always covers every base bar of its period.
 */
async function aggregateSymbol(
  ctx: JobContext,
  run: Run,
  symbol: string,
  withoutBaseBars: string | undefined,
): Promise<AggregateSymbolResult> {
  const { payload } = run;
  const key = { symbol, timeframe: payload.source, variant: payload.sourceVariant };
  const result: AggregateSymbolResult = {
    symbol,
    sourceBars: 0,
    timeframes: {},
    written: 0,
    unchanged: 0,
    gaps: emptyGapReport(payload.source),
    ...(withoutBaseBars === undefined ? {} : { note: withoutBaseBars }),
  };

  const extent = withoutBaseBars === undefined ? await ctx.store.barsReader.extent(key, run.from, run.to) : undefined;
  if (!extent) return result;
  // Without bounds, the range is the whole days of the stored bars, so gaps count full sessions.
  const rangeFrom = run.from ?? periodBounds('1d', extent.first, payload.session, NYSE).start;
  const rangeTo = run.to ?? periodBounds('1d', extent.last, payload.session, NYSE).end;
  // Whole periods of every target: a stored bar is never built from part of its period.
  const firstPeriods = run.targets.map((target) => [target, periodBounds(target, rangeFrom, payload.session, NYSE)] as const);
  const readFrom = Math.min(...firstPeriods.map(([, period]) => period.start));
  const readTo = Math.max(...run.targets.map((target) => periodBounds(target, rangeTo - 1, payload.session, NYSE).end));
  const plan: ChunkPlan = {
    symbol,
    source: payload.source,
    sourceVariant: payload.sourceVariant,
    chunkTargets: run.chunkTargets,
    finalTargets: run.finalTargets,
    session: payload.session,
    alignment: payload.alignment,
    calendar: NYSE.name,
    fill: payload.fill,
    rangeFrom,
    rangeTo,
    emitFrom: periodBounds('1d', rangeFrom, payload.session, NYSE).start,
    emitTo: periodBounds('1d', rangeTo - 1, payload.session, NYSE).end,
    finalFrom: Object.fromEntries(
      firstPeriods.filter(([target]) => run.finalTargets.includes(target)).map(([target, period]) => [target, period.start]),
    ),
  };
  Object.assign(result, { from: new Date(rangeFrom).toISOString(), to: new Date(rangeTo).toISOString() });

  // Forward fills go into the source series, which holds bars in the range: they always merge.
  const targetRanges = run.targets.map((target) => ({
    symbol,
    timeframe: target,
    variant: variantOf(target, payload.session, payload.alignment),
    from: readFrom,
    to: readTo,
  }));
  const counts = await ctx.store.transaction(async (tx) => {
    const writer = await tx.bars.batchWriter(
      payload.fill === 'forward' ? [...targetRanges, { ...key, from: readFrom, to: readTo }] : targetRanges,
    );
    let cursor: number | undefined;
    let carry: BarColumns | undefined;
    let daily: BarColumns = allocateBars(0);
    let spanFrom = rangeFrom;
    for (;;) {
      ctx.signal.throwIfAborted();
      const page = await tx.barsReader.page(key, readFrom, readTo, cursor, payload.pageRows);
      const final = isEmptyBarPage(page);
      const transfer = [page.buffer as ArrayBuffer, ...(carry ? barBuffers(carry) : []), ...(final ? barBuffers(daily) : [])];
      const out = await ctx.kernels.run(
        'aggregateChunk',
        { plan, page, carry, spanFrom, final, ...(final ? { daily } : {}) },
        { transfer, signal: ctx.signal },
      );
      result.sourceBars += out.stats.included;
      noteOutsideCalendar(result, out.stats);
      result.gaps = mergeGapReports(result.gaps, out.gaps, GAPPY_SESSIONS_LISTED);
      let rows = 0;
      for (const [timeframe, count] of Object.entries(out.counts) as Array<[Timeframe, TimeframeCount]>) {
        const entry = (result.timeframes[timeframe] ??= { bars: 0, filled: 0 });
        entry.bars += count.bars;
        entry.filled += count.filled;
        rows += count.bars + count.filled;
      }
      await writer.write(out.copy, rows);
      if (final) break;
      daily = concatBars(daily, out.daily);
      carry = out.carry;
      spanFrom = out.cut;
      cursor = out.lastTs;
    }
    return writer.finish();
  });
  result.written = counts.written;
  result.unchanged = counts.unchanged;
  return result;
}

/** Adds a chunk's base bars outside the calendar to the symbol's result, widening the span. */
function noteOutsideCalendar(result: AggregateSymbolResult, stats: AggregateStats): void {
  const span = stats.outsideCalendarSpan;
  if (!span) return;
  const first = new Date(span.first).toISOString();
  const last = new Date(span.last).toISOString();
  const seen = result.outsideCalendar;
  result.outsideCalendar = {
    bars: (seen?.bars ?? 0) + stats.outsideCalendar,
    first: seen && seen.first < first ? seen.first : first,
    last: seen && seen.last > last ? seen.last : last,
    calendar: `${NYSE.name} ${NYSE.range.first} … ${NYSE.range.last}`,
  };
}

/** The series one symbol's aggregation wrote, for the announcement after its commit. */
function writtenSeries(run: Run, result: AggregateSymbolResult): WrittenSeries[] {
  const { source, sourceVariant, session, alignment } = run.payload;
  return (Object.entries(result.timeframes) as Array<[Timeframe, TimeframeCount]>).map(([timeframe, count]) => ({
    symbol: result.symbol,
    timeframe,
    variant: timeframe === source ? sourceVariant : variantOf(timeframe, session, alignment),
    rows: count.bars,
    from: result.from === undefined ? undefined : Date.parse(result.from),
    to: result.to === undefined ? undefined : Date.parse(result.to),
  }));
}

/** Why a named symbol has no base bars in the run's range: the series, the range, and what is stored instead. */
async function noBaseBars(ctx: JobContext, run: Run, symbol: string, stored: () => Promise<string[]>): Promise<string> {
  const { source, sourceVariant, from, to } = run.payload;
  const series = `${source} bars of ${symbol}${sourceVariant ? ` (variant ${sourceVariant})` : ''}`;
  const whole = await ctx.store.barsReader.extent({ symbol, timeframe: source, variant: sourceVariant });
  if (!whole) {
    return `no ${series} are stored${didYouMean(sameButCase(symbol, await stored()))}; import them first (import-bars) or check the symbol and source timeframe`;
  }
  const range =
    from !== undefined && to !== undefined ? `between ${from} and ${to}` : from !== undefined ? `from ${from} on` : `up to ${to}`;
  const day = (ts: number) => localDate(ts, NYSE.timeZone);
  return `no ${series} ${range}; they run from ${day(whole.first)} to ${day(whole.last)}`;
}

/** Symbols a failure names one by one; the rest are counted. */
const ABSENT_NAMED = 10;

/**
 * The named symbols with no base bars in the run's range, each with why. When none of them has
 * any the job cannot do anything asked of it and fails at once (nothing is written); otherwise
 * the others are aggregated and these are reported in the result.
 */
async function symbolsWithoutBaseBars(ctx: JobContext, run: Run, symbols: string[]): Promise<Map<string, string>> {
  const { source, sourceVariant } = run.payload;
  const present = new Set(await ctx.store.barsReader.symbolsWithBars(source, sourceVariant, run.from, run.to));
  let stored: Promise<string[]> | undefined;
  const storedSymbols = () => (stored ??= ctx.store.barsReader.storedSymbols());
  const absent = symbols.filter((symbol) => !present.has(symbol));
  const none = absent.length === symbols.length;
  const reasons = new Map<string, string>();
  for (const symbol of none ? absent.slice(0, ABSENT_NAMED) : absent) {
    reasons.set(symbol, await noBaseBars(ctx, run, symbol, storedSymbols));
  }
  if (none) {
    const more = absent.length - reasons.size;
    throw new InputError([...reasons.values(), ...(more > 0 ? [`and ${more} more named symbols have none`] : [])].join('; '));
  }
  return reasons;
}

/**
 * aggregate-bars: coarser bars from stored base bars for one, many or all symbols (see
 * docs/bars.md for the semantics and the variant naming).
 */
export const aggregateBarsHandler = defineHandler(aggregateBarsContract, async (ctx, payload) => {
  const run = resolveRun(payload);
  const symbols =
    payload.symbols === undefined
      ? await ctx.store.barsReader.symbolsWithBars(payload.source, payload.sourceVariant, run.from, run.to)
      : [...new Set(typeof payload.symbols === 'string' ? [payload.symbols] : payload.symbols)];
  const withoutBaseBars =
    payload.symbols === undefined ? new Map<string, string>() : await symbolsWithoutBaseBars(ctx, run, symbols);
  await ctx.progress(
    1,
    `aggregating ${symbols.length} symbols from ${payload.source} to ${run.targets.join(', ')} (${payload.session}, ${payload.alignment})`,
  );
  let done = 0;
  const results = await pMap(
    symbols,
    async (symbol) => {
      const result = await aggregateSymbol(ctx, run, symbol, withoutBaseBars.get(symbol));
      await ctx.events.barsWritten(writtenSeries(run, result));
      done++;
      const built = Object.values(result.timeframes).reduce((sum, count) => sum + (count?.bars ?? 0), 0);
      await ctx.progress(
        1 + (98 * done) / symbols.length,
        `${symbol}: ${result.sourceBars} base bars → ${built} bars, ${result.written} written, ${result.gaps.missing} missing` +
          (result.outsideCalendar
            ? `; ${result.outsideCalendar.bars} bars from ${result.outsideCalendar.first} to ${result.outsideCalendar.last} left out: outside the ${result.outsideCalendar.calendar} calendar`
            : ''),
        { symbol },
      );
      return result;
    },
    { concurrency: Math.max(1, Math.min(MAX_PARALLEL_SYMBOLS, ctx.kernels.maxThreads)), signal: ctx.signal },
  );
  await ctx.progress(100);
  return {
    source: payload.source,
    targets: run.targets,
    session: payload.session,
    alignment: payload.alignment,
    fill: payload.fill,
    symbols: results,
    totals: {
      symbols: results.length,
      sourceBars: results.reduce((sum, r) => sum + r.sourceBars, 0),
      written: results.reduce((sum, r) => sum + r.written, 0),
      unchanged: results.reduce((sum, r) => sum + r.unchanged, 0),
      missing: results.reduce((sum, r) => sum + r.gaps.missing, 0),
    },
  };
});
