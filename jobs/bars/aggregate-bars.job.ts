import pMap from 'p-map';
import type { WrittenSeries } from '../../src/bars/announce.js';
import { derivableTargets, variantOf, type AggregateStats } from '../../src/bars/aggregate.js';
import { stretchBounds } from '../../src/bars/aggregate-split.js';
import { concatBars, isEmptyBarPage } from '../../src/bars/pages.js';
import { allocateBars, barBuffers, type BarColumns, type SeriesKey } from '../../src/bars/columns.js';
import type { BarBatchWriter } from '../../src/bars/bars.repository.js';
import type { Store } from '../../src/store/store.js';
import { NYSE } from '../../src/shared/calendar.js';
import { emptyGapReport, mergeGapReports } from '../../src/bars/gaps.js';
import { resolveRange } from '../../src/bars/ranges.js';
import { periodBounds } from '../../src/bars/sessions.js';
import { INTRADAY_MINUTES, timeframeRank, type Timeframe } from '../../src/bars/timeframes.js';
import type { AggregateChunkOutput, ChunkPlan, TimeframeCount } from '../../src/bars/aggregate-chunk.task.js';
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
 * else staged and merged once at the end (BarsRepository.batchWriter). The read range is widened
 * to whole periods of the coarsest target, so a stored weekly or monthly bar always covers every
 * base bar of its period.
 * A range long enough is split into up to `threads` stretches aggregated at once (see stretchBounds).
 */
async function aggregateSymbol(
  ctx: JobContext,
  run: Run,
  symbol: string,
  withoutBaseBars: string | undefined,
  threads: number,
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
  // A long range is cut where no bucket of any target straddles the cut (aggregateOnPool's rule):
  // each stretch is a run of its own on its own thread, sharing the transaction.
  const cuts = stretchBounds(
    rangeFrom,
    rangeTo,
    { source: payload.source, targets: run.targets, session: payload.session, calendar: NYSE },
    { parts: threads, minRows: payload.pageRows },
  );
  const counts = await ctx.store.transaction(async (tx) => {
    const writer = await tx.bars.batchWriter(
      payload.fill === 'forward' ? [...targetRanges, { ...key, from: readFrom, to: readTo }] : targetRanges,
    );
    const stretches = cuts.slice(1).map((to, k): Stretch => {
      const first = k === 0;
      const last = k === cuts.length - 2;
      const from = cuts[k];
      return {
        plan: {
          ...plan,
          rangeFrom: first ? plan.rangeFrom : from,
          rangeTo: last ? plan.rangeTo : to,
          emitFrom: first ? plan.emitFrom : from,
          emitTo: last ? plan.emitTo : to,
        },
        readFrom: first ? readFrom : from,
        readTo: last ? readTo : to,
      };
    });
    const tallies = await allStretches(stretches, oneAtATime(), (stretch, step, signal) =>
      aggregateStretch(ctx, tx, writer, key, stretch, payload.pageRows, step, signal),
    );
    for (const out of tallies.flat()) {
      result.sourceBars += out.stats.included;
      noteOutsideCalendar(result, out.stats);
      result.gaps = mergeGapReports(result.gaps, out.gaps, GAPPY_SESSIONS_LISTED);
      for (const [timeframe, count] of Object.entries(out.counts) as Array<[Timeframe, TimeframeCount]>) {
        const entry = (result.timeframes[timeframe] ??= { bars: 0, filled: 0 });
        entry.bars += count.bars;
        entry.filled += count.filled;
      }
    }
    return writer.finish();
  });
  result.written = counts.written;
  result.unchanged = counts.unchanged;
  return result;
}

/** A stretch of one symbol's range, aggregated as a run of its own: its plan and the base bars it reads. */
interface Stretch {
  plan: ChunkPlan;
  readFrom: number;
  readTo: number;
}

/** What a chunk adds to its symbol's result (kept for every chunk, so none of its bars). */
type ChunkTally = Pick<AggregateChunkOutput, 'stats' | 'gaps' | 'counts'>;

/** Runs steps one at a time in call order: a transaction's one connection takes one statement at a time. */
type Step = <T>(step: () => Promise<T>) => Promise<T>;

function oneAtATime(): Step {
  let tail: Promise<unknown> = Promise.resolve();
  return (step) => {
    const next = tail.then(step);
    tail = next.catch(() => undefined);
    return next;
  };
}

/**
 * Runs every stretch at once and returns their results in stretch order. The first failure
 * stops the others at their next step, and is thrown once all have stopped, so no statement
 * reaches the transaction after it ends.
 */
async function allStretches<T>(
  stretches: Stretch[],
  step: Step,
  run: (stretch: Stretch, step: Step, signal: AbortSignal) => Promise<T>,
): Promise<T[]> {
  const stop = new AbortController();
  const settled = await Promise.allSettled(
    stretches.map((stretch) =>
      run(stretch, step, stop.signal).catch((error: unknown) => {
        stop.abort(error);
        throw error;
      }),
    ),
  );
  const failed = settled.find((outcome) => outcome.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((outcome) => (outcome as PromiseFulfilledResult<T>).value);
}

/**
 * One stretch: pages of base bars (keyset over the primary key) through the kernel in the pool
 * chunk by chunk, each chunk's bars written as they come. Reads and writes go through `step`,
 * one statement at a time however many stretches run; the kernels run side by side.
 */
async function aggregateStretch(
  ctx: JobContext,
  tx: Store,
  writer: BarBatchWriter,
  key: SeriesKey,
  { plan, readFrom, readTo }: Stretch,
  pageRows: number,
  step: Step,
  stop: AbortSignal,
): Promise<ChunkTally[]> {
  const tallies: ChunkTally[] = [];
  let cursor: number | undefined;
  let carry: BarColumns | undefined;
  let daily: BarColumns = allocateBars(0);
  let spanFrom = plan.rangeFrom;
  for (;;) {
    ctx.signal.throwIfAborted();
    stop.throwIfAborted();
    const page = await step(() => tx.barsReader.page(key, readFrom, readTo, cursor, pageRows));
    const final = isEmptyBarPage(page);
    const transfer = [page.buffer as ArrayBuffer, ...(carry ? barBuffers(carry) : []), ...(final ? barBuffers(daily) : [])];
    const out = await ctx.kernels.run(
      'aggregateChunk',
      { plan, page, carry, spanFrom, final, ...(final ? { daily } : {}) },
      { transfer, signal: ctx.signal },
    );
    tallies.push({ stats: out.stats, gaps: out.gaps, counts: out.counts });
    const rows = Object.values(out.counts).reduce((sum, count) => sum + count.bars + count.filled, 0);
    stop.throwIfAborted();
    await step(() => writer.write(out.copy, rows));
    if (final) return tallies;
    daily = concatBars(daily, out.daily);
    carry = out.carry;
    spanFrom = out.cut;
    cursor = out.lastTs;
  }
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
  const concurrency = Math.max(1, Math.min(MAX_PARALLEL_SYMBOLS, ctx.kernels.maxThreads));
  // Threads the symbols running at once leave over go to splitting each one's range.
  const threads = Math.max(1, Math.floor(ctx.kernels.maxThreads / Math.max(1, Math.min(symbols.length, concurrency))));
  let done = 0;
  const results = await pMap(
    symbols,
    async (symbol) => {
      const result = await aggregateSymbol(ctx, run, symbol, withoutBaseBars.get(symbol), threads);
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
    { concurrency, signal: ctx.signal },
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
