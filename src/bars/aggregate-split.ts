/**
 * The aggregation kernel split over the kernel pool: a long series is cut at session
 * boundaries where no bucket of any target straddles the cut, each thread aggregates one
 * contiguous slice of the shared columns in place, and the slices' bars are joined in order.
 * The result equals aggregateBars on one thread exactly: every bucket is built by one thread
 * from the same rows in the same order.
 */
import { assertDerivable, type AggregateOptions, type AggregateResult, type AggregateStats } from './aggregate.js';
import { concatBars, lowerBound } from './pages.js';
import { isSharedBars, type BarColumns } from './columns.js';
import { NYSE } from '../shared/calendar.js';
import { barSpan, sessionEndingAfter, sessionTable, type SessionTable } from './sessions.js';
import type { Timeframe } from './timeframes.js';
import type { Kernels } from '../kernels/pool.js';

/** Rows a slice holds at least: below this, a task's start and the join cost more than the thread saves. */
export const MIN_SLICE_ROWS = 250_000;

/** The session labels of the targets whose buckets span sessions: a cut must fall where each changes. */
function spanningLabels(targets: readonly Timeframe[], table: SessionTable): Float64Array[] {
  const labels: Float64Array[] = [];
  if (targets.includes('2d')) labels.push(table.pair);
  if (targets.includes('1w')) labels.push(table.week);
  if (targets.includes('1M')) labels.push(table.month);
  return labels;
}

/**
 * The first session from `s` on after which a cut splits no bucket: where every spanning
 * label changes (the last session when there is none).
 */
function lastBeforeCut(table: SessionTable, labels: Float64Array[], s: number): number {
  let last = s;
  while (last + 1 < table.length && labels.some((label) => label[last + 1] === label[last])) last++;
  return last;
}

/**
 * Row bounds [0, c₁, …, rows] of at most `parts` slices of near-equal length. Each cut sits at
 * the end of a session (rows before it belong to that session or earlier ones, in the kernel's
 * membership rule) and, for 2d, 1w and 1M targets, where the session's pair, week or month
 * changes, so no bucket has rows on both sides. A wanted cut inside a bucket moves forward
 * to the next such boundary; cuts that would leave a slice empty are dropped.
 */
export function sliceBounds(ts: Float64Array, options: AggregateOptions, parts: number): number[] {
  const rows = ts.length;
  const bounds = [0];
  if (parts > 1 && rows > 0) {
    const table = sessionTable(options.session ?? 'regular', options.calendar ?? NYSE, ts[0], ts[rows - 1]);
    const labels = spanningLabels(options.targets, table);
    for (let part = 1; part < parts; part++) {
      const previous = bounds[bounds.length - 1];
      const wanted = Math.round((rows * part) / parts);
      if (wanted <= previous) continue;
      const s = lastBeforeCut(table, labels, sessionEndingAfter(table, ts[wanted]));
      if (s + 1 >= table.length) break;
      const cut = lowerBound(ts, table.end[s], previous, rows);
      if (cut >= rows) break;
      if (cut > previous) bounds.push(cut);
    }
  }
  bounds.push(rows);
  return bounds;
}

/**
 * Instants [from, c₁, …, to] cutting a stretch of time into at most `parts` stretches of about
 * as many sessions each, none holding fewer than `minRows` base bars by the sessions' length
 * (the cuts sliceBounds makes, found before the rows are read): each cut is the end of a
 * session's window after which no bucket of any target straddles, so a bar before it belongs to
 * that session or an earlier one and a bar from it on to a later one, as in one pass.
 */
export function stretchBounds(
  from: number,
  to: number,
  options: AggregateOptions,
  { parts, minRows }: { parts: number; minRows: number },
): number[] {
  const bounds = [from];
  const table = sessionTable(options.session ?? 'regular', options.calendar ?? NYSE, from, to);
  const first = sessionEndingAfter(table, from);
  const end = Math.min(table.length, sessionEndingAfter(table, to));
  const span = barSpan(options.source);
  let rows = 0;
  for (let s = first; s < end; s++) rows += Math.max(1, (table.end[s] - table.start[s]) / span);
  const stretches = Math.min(parts, Math.floor(rows / Math.max(1, minRows)));
  const labels = spanningLabels(options.targets, table);
  for (let part = 1; part < stretches; part++) {
    const s = lastBeforeCut(table, labels, first + Math.round(((end - first) * part) / stretches));
    if (s + 1 >= end) break;
    const cut = table.end[s];
    if (cut > bounds[bounds.length - 1] && cut < to) bounds.push(cut);
  }
  bounds.push(to);
  return bounds;
}

/** The slices' stats as one run's: sums, and the outside-calendar span from the first to the last such row. */
function joinStats(stats: AggregateStats[]): AggregateStats {
  const joined: AggregateStats = { rows: 0, included: 0, outsideSession: 0, outsideCalendar: 0 };
  for (const part of stats) {
    joined.rows += part.rows;
    joined.included += part.included;
    joined.outsideSession += part.outsideSession;
    joined.outsideCalendar += part.outsideCalendar;
    const span = part.outsideCalendarSpan;
    if (span) {
      joined.outsideCalendarSpan = {
        first: Math.min(joined.outsideCalendarSpan?.first ?? Infinity, span.first),
        last: Math.max(joined.outsideCalendarSpan?.last ?? -Infinity, span.last),
      };
    }
  }
  return joined;
}

export interface PoolAggregateOptions {
  /** Rows a slice holds at least; default MIN_SLICE_ROWS. */
  minSliceRows?: number;
}

/**
 * aggregateBars on the kernel pool: the series is cut into up to one slice per thread (each at
 * least `minSliceRows` long) by sliceBounds and the slices run at once. The columns must lie
 * on SharedArrayBuffers (allocateSharedBars), so no thread copies them.
 */
export async function aggregateOnPool(
  kernels: Kernels,
  bars: BarColumns,
  options: AggregateOptions,
  { minSliceRows = MIN_SLICE_ROWS }: PoolAggregateOptions = {},
): Promise<AggregateResult> {
  assertDerivable(options.source, options.targets);
  if (!isSharedBars(bars))
    throw new TypeError('aggregateOnPool needs bar columns on SharedArrayBuffers (see allocateSharedBars)');
  const rows = bars.ts.length;
  const parts = Math.max(1, Math.min(kernels.maxThreads, Math.floor(rows / Math.max(1, minSliceRows))));
  const bounds = sliceBounds(bars.ts, options, parts);
  const sliceOptions = { ...options, calendar: (options.calendar ?? NYSE).name };
  const slices = await Promise.all(
    bounds.slice(1).map((to, k) => kernels.run('aggregateSlice', { bars, from: bounds[k], to, options: sliceOptions })),
  );
  return joinSlices(slices, options.targets);
}

/**
 * The results of consecutive slices of one series (cut by sliceBounds) as the result of the
 * whole: each target's bars in slice order, the stats summed.
 */
export function joinSlices(slices: AggregateResult[], targets: readonly Timeframe[]): AggregateResult {
  if (slices.length === 1) return slices[0];
  const joined: AggregateResult = { bars: {}, stats: joinStats(slices.map((slice) => slice.stats)) };
  for (const target of new Set(targets)) joined.bars[target] = concatBars(...slices.map((slice) => slice.bars[target]!));
  return joined;
}
