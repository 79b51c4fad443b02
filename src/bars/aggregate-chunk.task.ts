import { aggregateBars, variantOf, type AggregateStats } from './aggregate.js';
import { concatBars, decodeBarPage, lowerBound } from './pages.js';
import { allocateBars, barBuffers, sliceBars, type BarColumns, type BarSource } from './columns.js';
import { BinaryCopyWriter } from './binary-copy.js';
import { calendarByName } from '../shared/calendar.js';
import { emptyGapReport, fillGaps, scanGaps, type GapReport } from './gaps.js';
import { dayStart, type Alignment, type SessionMode } from './sessions.js';
import { isIntraday, type Timeframe } from './timeframes.js';
import { transferOut } from '../kernels/transfer.js';

/** What one aggregate-bars run does to one symbol; the same for every chunk of it. */
export interface ChunkPlan {
  symbol: string;
  source: Timeframe;
  /** Variant of the base series (fills of the source timeframe are written there). */
  sourceVariant: string;
  /** Targets written chunk by chunk: intraday ones and 1d. */
  chunkTargets: Timeframe[];
  /** Targets built at the end from the 1d bars of every chunk: 2d, 1w, 1M. */
  finalTargets: Timeframe[];
  session: SessionMode;
  alignment: Alignment;
  calendar: string;
  fill: 'none' | 'forward';
  /** The requested range (epoch ms, [from, to)): gaps are counted and fills made inside it. */
  rangeFrom: number;
  rangeTo: number;
  /** Intraday and 1d bars starting in [emitFrom, emitTo) are written: the range in whole days. */
  emitFrom: number;
  emitTo: number;
  /** Final-target bars starting in [finalFrom[target], rangeTo) are written: periods touching the range. */
  finalFrom: Partial<Record<Timeframe, number>>;
}

export interface AggregateChunkInput {
  plan: ChunkPlan;
  /** A binary COPY page of base bars (see decodeBarPage; transferred in); one without rows for the final call. */
  page: Uint8Array;
  /** Rows of an unfinished day held back by the previous chunk. */
  carry?: BarColumns;
  /** Where this chunk's stretch of time begins: the previous chunk's `cut`, or the range start. */
  spanFrom: number;
  /** No page follows: process everything and build the final targets. */
  final: boolean;
  /** With `final`: the 1d bars every earlier chunk returned, concatenated. */
  daily?: BarColumns;
}

export interface TimeframeCount {
  bars: number;
  filled: number;
}

export interface AggregateChunkOutput {
  /** Binary COPY payload (BinaryCopyWriter) of every bar to write, empty when none (transferred out). */
  copy: Uint8Array;
  counts: Partial<Record<Timeframe, TimeframeCount>>;
  /** 1d bars of the days this chunk completed, for the final targets. */
  daily: BarColumns;
  /** Rows of the last, possibly unfinished day, for the next chunk. */
  carry: BarColumns;
  /** End of the stretch of time this chunk covered; the next chunk's spanFrom. */
  cut: number;
  /** ts of the page's last row (the keyset cursor), NaN for an empty page. */
  lastTs: number;
  gaps: GapReport;
  stats: AggregateStats;
}

function count(counts: AggregateChunkOutput['counts'], timeframe: Timeframe, field: keyof TimeframeCount, n: number): void {
  const entry = (counts[timeframe] ??= { bars: 0, filled: 0 });
  entry[field] += n;
}

/**
 * One chunk of an aggregate-bars run for one symbol: decodes a page of base bars, holds back
 * the last day (its bars may continue on the next page), aggregates the complete days to the
 * chunk targets, counts gaps, makes fill bars when asked, and encodes everything to write as
 * COPY text. The final call also builds 2d, 1w and 1M from the days of every chunk.
 */
export function aggregateChunk(input: AggregateChunkInput): AggregateChunkOutput {
  const { plan } = input;
  const calendar = calendarByName(plan.calendar);
  const page = decodeBarPage(input.page);
  const lastTs = page.ts.length > 0 ? page.ts[page.ts.length - 1] : NaN;
  const rows = input.carry ? concatBars(input.carry, page) : page;
  const cut = input.final || rows.ts.length === 0 ? plan.rangeTo : dayStart(rows.ts[rows.ts.length - 1], plan.session, calendar);
  const split = input.final ? rows.ts.length : lowerBound(rows.ts, cut);
  const done = sliceBars(rows, 0, split);
  const carry = sliceBars(rows, split, rows.ts.length);
  const options = { session: plan.session, alignment: plan.alignment, calendar };
  const counts: AggregateChunkOutput['counts'] = {};
  const writer = new BinaryCopyWriter();
  const emit = (timeframe: Timeframe, variant: string, source: BarSource, bars: BarColumns, from: number, to: number) => {
    const start = lowerBound(bars.ts, from);
    const end = lowerBound(bars.ts, to);
    if (end <= start) return;
    writer.add({ symbol: plan.symbol, timeframe, variant }, source, bars, start, end);
    count(counts, timeframe, source === 'fill' ? 'filled' : 'bars', end - start);
  };

  const built = aggregateBars(done, {
    source: plan.source,
    targets:
      plan.finalTargets.length > 0 && !plan.chunkTargets.includes('1d') && plan.source !== '1d'
        ? [...plan.chunkTargets, '1d']
        : plan.chunkTargets,
    ...options,
  });
  // Gaps and fills belong to the requested range, not to the widening around it.
  const gapFrom = Math.max(input.spanFrom, plan.rangeFrom);
  const gapTo = Math.min(cut, plan.rangeTo);
  const gaps =
    gapFrom < gapTo
      ? scanGaps(done, { timeframe: plan.source, ...options, from: gapFrom, to: gapTo })
      : emptyGapReport(plan.source);
  if (plan.fill === 'forward' && gapFrom < gapTo) {
    const sourceFills = fillGaps(done, { timeframe: plan.source, ...options, from: gapFrom, to: gapTo });
    emit(plan.source, plan.sourceVariant, 'fill', sourceFills, gapFrom, gapTo);
  }
  for (const target of plan.chunkTargets) {
    const bars = built.bars[target]!;
    const variant = variantOf(target, plan.session, plan.alignment);
    emit(target, variant, 'aggregate', bars, plan.emitFrom, plan.emitTo);
    if (plan.fill === 'forward' && isIntraday(target) && gapFrom < gapTo) {
      emit(
        target,
        variant,
        'fill',
        fillGaps(bars, { timeframe: target, ...options, from: gapFrom, to: gapTo }),
        plan.emitFrom,
        plan.emitTo,
      );
    }
  }
  const daily = plan.source === '1d' ? done : (built.bars['1d'] ?? allocateBars(0));
  let stats = built.stats;
  if (input.final && plan.finalTargets.length > 0) {
    const days = input.daily ? concatBars(input.daily, daily) : daily;
    const coarse = aggregateBars(days, { source: '1d', targets: plan.finalTargets, ...options });
    // From 1d bars the chunks build nothing: this pass over every day is where they are counted.
    if (plan.source === '1d') stats = coarse.stats;
    for (const target of plan.finalTargets) {
      emit(
        target,
        variantOf(target, plan.session, plan.alignment),
        'aggregate',
        coarse.bars[target]!,
        plan.finalFrom[target] ?? plan.rangeFrom,
        plan.rangeTo,
      );
    }
  }
  const copy = writer.finish();
  return transferOut({ copy, counts, daily, carry, cut, lastTs, gaps, stats }, [
    copy.buffer as ArrayBuffer,
    ...barBuffers(daily),
    ...barBuffers(carry),
  ]);
}
