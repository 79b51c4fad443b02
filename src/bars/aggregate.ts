/**
 * The aggregation kernel: bars of one series at a source timeframe in, bars at every coarser
 * target out, bucketed by trading session in the calendar's wall-clock time.
 *
 * Semantics (DESIGN.md "Market semantics"): open = first, high = max, low = min, close = last,
 * volume = sum, trade count = sum, vwap = Σ(vwapᵢ·vᵢ)/Σvᵢ with (h+l+c)/3 standing in for a
 * missing vwap and close for a bucket without volume, so that aggregating in steps equals
 * aggregating in one go. A bar's ts is its period start: the bucket start for intraday bars,
 * local midnight of the session date for 1d, of the pair's first session for 2d, of Monday for
 * 1w and of the 1st for 1M. Source bars outside the session mode's hours are left out.
 *
 * Each target is one pass over sorted typed arrays: the source for the finest target, then the
 * coarsest already built target whose buckets nest in it (1h from 30m, 1d from 12h, 1w from 1d),
 * carrying Σ(vwap·v) exactly. The bucket of a row is found by comparing its ts with the current
 * bucket's end; only when it crosses is the next bucket start computed, from the session's
 * precomputed window (session anchor or local grid), so no row pays for a division or a zone
 * lookup.
 */
import { lowerBound } from './pages.js';
import { NYSE, type TradingCalendar } from '../shared/calendar.js';
import type { BarColumns } from './columns.js';
import { barSpan, sessionEndingAfter, sessionTable, type Alignment, type SessionMode, type SessionTable } from './sessions.js';
import { INTRADAY_MINUTES, TIMEFRAMES, timeframeRank, type Timeframe } from './timeframes.js';

export type { Alignment, SessionMode } from './sessions.js';

const MINUTE = 60_000;
/** Source periods a bucket must span before its end row is found by a guess and a search rather than a scan. */
const WIDE_BUCKET = 16;

export interface AggregateOptions {
  /** Timeframe of the input bars: intraday, or 1d (to 2d, 1w, 1M). */
  source: Timeframe;
  /** Timeframes to build; each must be derivable from the source (see canDerive). */
  targets: readonly Timeframe[];
  /** Default `regular`. */
  session?: SessionMode;
  /** Default `session`. */
  alignment?: Alignment;
  /** Default NYSE; unused in 24h mode. */
  calendar?: TradingCalendar;
}

/** What happened to the input rows. */
export interface AggregateStats {
  rows: number;
  /** Rows inside a session's window for the mode, hence in the output. */
  included: number;
  /** Rows outside every session's window (pre- or post-market in regular mode, holidays, weekends). */
  outsideSession: number;
  /** Rows before or after the calendar's years. */
  outsideCalendar: number;
  /** ts of the first and the last of those rows, when there are any. */
  outsideCalendarSpan?: { first: number; last: number };
}

export interface AggregateResult {
  /** One series per target, sorted by ts, on buffers of its own (transferable, possibly longer than the series). */
  bars: Partial<Record<Timeframe, BarColumns>>;
  stats: AggregateStats;
}

/**
 * Whether bars of `target` can be built from bars of `source`: an intraday target whose length
 * is a multiple of the source's (so source bars never straddle a bucket boundary), any daily or
 * longer target from an intraday source, and 2d, 1w or 1M from 1d.
 */
export function canDerive(source: Timeframe, target: Timeframe): boolean {
  if (timeframeRank(target) <= timeframeRank(source)) return false;
  const sourceMinutes = INTRADAY_MINUTES[source];
  const targetMinutes = INTRADAY_MINUTES[target];
  if (sourceMinutes !== undefined) return targetMinutes === undefined || targetMinutes % sourceMinutes === 0;
  return source === '1d' && targetMinutes === undefined;
}

/** The timeframes `canDerive` allows from a source, finest first. */
export function derivableTargets(source: Timeframe): Timeframe[] {
  return TIMEFRAMES.filter((target) => canDerive(source, target));
}

/**
 * The `variant` aggregated bars are stored under: the session mode, with `/natural` appended
 * for natural-aligned intraday bars of 1h and longer (the only bars alignment changes). So
 * 'regular', 'regular/natural', 'extended', 'extended/natural' and '24h'; provider bars use ''.
 */
export function variantOf(timeframe: Timeframe, session: SessionMode, alignment: Alignment): string {
  const minutes = INTRADAY_MINUTES[timeframe];
  if (session !== '24h' && alignment === 'natural' && minutes !== undefined && minutes >= 60) return `${session}/natural`;
  return session;
}

/** Bars under construction at one level, with Σ(vwap·v) kept exact and each bar's session. */
class Level {
  length = 0;
  ts: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
  pv: Float64Array;
  tradeCount: Float64Array;
  session: Int32Array;

  constructor(capacity: number) {
    const size = Math.max(16, capacity);
    this.ts = new Float64Array(size);
    this.open = new Float64Array(size);
    this.high = new Float64Array(size);
    this.low = new Float64Array(size);
    this.close = new Float64Array(size);
    this.volume = new Float64Array(size);
    this.pv = new Float64Array(size);
    this.tradeCount = new Float64Array(size);
    this.session = new Int32Array(size);
  }

  private grow(): void {
    const size = this.ts.length * 2;
    const grown = <T extends Float64Array | Int32Array>(array: T): T => {
      const next = new (array.constructor as new (n: number) => T)(size);
      next.set(array);
      return next;
    };
    this.ts = grown(this.ts);
    this.open = grown(this.open);
    this.high = grown(this.high);
    this.low = grown(this.low);
    this.close = grown(this.close);
    this.volume = grown(this.volume);
    this.pv = grown(this.pv);
    this.tradeCount = grown(this.tradeCount);
    this.session = grown(this.session);
  }

  push(
    ts: number,
    open: number,
    high: number,
    low: number,
    close: number,
    volume: number,
    pv: number,
    trades: number,
    session: number,
  ): void {
    if (this.length === this.ts.length) this.grow();
    const i = this.length++;
    this.ts[i] = ts;
    this.open[i] = open;
    this.high[i] = high;
    this.low[i] = low;
    this.close[i] = close;
    this.volume[i] = volume;
    this.pv[i] = pv;
    this.tradeCount[i] = trades;
    this.session[i] = session;
  }

  /**
   * The finished bars as BarColumns viewing this level's own buffers (so they transfer without
   * a copy). Σ(vwap·v) is turned into vwap in place: call it once the level is no longer a parent.
   */
  toColumns(): BarColumns {
    const n = this.length;
    const { volume, pv, close } = this;
    for (let i = 0; i < n; i++) pv[i] = volume[i] > 0 ? pv[i] / volume[i] : close[i];
    return {
      ts: this.ts.subarray(0, n),
      open: this.open.subarray(0, n),
      high: this.high.subarray(0, n),
      low: this.low.subarray(0, n),
      close: close.subarray(0, n),
      volume: volume.subarray(0, n),
      vwap: pv.subarray(0, n),
      tradeCount: this.tradeCount.subarray(0, n),
    };
  }
}

/**
 * How a target assigns a row to a bucket: intraday buckets by width and alignment within the
 * session, longer ones by the session's period label.
 */
interface Bucketing {
  width: number;
  natural: boolean;
  /** The per-session label column for 1d and longer; undefined for intraday. */
  labels: Float64Array | undefined;
}

function bucketing(target: Timeframe, alignment: Alignment, table: SessionTable): Bucketing {
  const minutes = INTRADAY_MINUTES[target];
  if (minutes !== undefined) return { width: minutes * MINUTE, natural: alignment === 'natural', labels: undefined };
  const labels = target === '1d' ? table.day : target === '2d' ? table.pair : target === '1w' ? table.week : table.month;
  return { width: 0, natural: false, labels };
}

/** Whether every bucket of `finer` lies inside one bucket of `coarser` (same mode and alignment). */
function nests(finer: Timeframe, coarser: Timeframe): boolean {
  const finerMinutes = INTRADAY_MINUTES[finer];
  const coarserMinutes = INTRADAY_MINUTES[coarser];
  if (finerMinutes !== undefined) return coarserMinutes === undefined || coarserMinutes % finerMinutes === 0;
  return finer === '1d' && coarserMinutes === undefined;
}

/** The bucket holding instant `te` of session `s`: its start, or for 1d and longer the period label. */
function bucketKey(how: Bucketing, table: SessionTable, s: number, te: number): number {
  if (how.labels !== undefined) return how.labels[s];
  const { width } = how;
  return how.natural
    ? Math.floor((te + table.offset[s]) / width) * width - table.offset[s]
    : table.start[s] + Math.floor((te - table.start[s]) / width) * width;
}

/** Where the bucket `key` of session `s` stops: its length later, cut at the session's end. */
function bucketStop(how: Bucketing, table: SessionTable, s: number, key: number): number {
  return how.labels !== undefined ? table.end[s] : Math.min(key + how.width, table.end[s]);
}

/**
 * One pass over source rows [first, last) into a target. A source bar belongs to the session
 * whose window it overlaps (a 1d bar labelled at midnight, a natural 1h bar at 09:00) and counts
 * from the window's start. `stats` is filled on the first pass only.
 */
function fromSource(
  bars: BarColumns,
  first: number,
  last: number,
  width: number,
  table: SessionTable,
  how: Bucketing,
  stats: AggregateStats | undefined,
  capacity: number,
): Level {
  const out = new Level(capacity);
  const { ts, open, high, low, close, volume, vwap, tradeCount } = bars;
  const { start, end } = table;
  const sessions = table.length;
  const labels = how.labels;
  const bucketWidth = how.width;
  // Locals only (no closure captures them), so the loops keep them in registers.
  let s = first < last ? sessionEndingAfter(table, ts[first]) : sessions;
  let windowStart = s < sessions ? start[s] : Infinity;
  let windowEnd = s < sessions ? end[s] : Infinity;
  let key = NaN;
  let o = 0;
  let h = 0;
  let l = 0;
  let c = 0;
  let v = 0;
  let pv = 0;
  let trades = 0;
  let bucketSession = -1;
  let outside = 0;
  let i = first;
  while (i < last) {
    const t = ts[i];
    if (t >= windowEnd) {
      s++;
      while (s < sessions && t >= end[s]) s++;
      if (s >= sessions) {
        outside += last - i;
        break;
      }
      windowStart = start[s];
      windowEnd = end[s];
    }
    let te = t;
    if (t < windowStart) {
      if (t + width <= windowStart) {
        outside++;
        i++;
        continue;
      }
      te = windowStart;
    }
    // Dense data moves to the very next bucket of the same session: skip the division.
    const nextKey =
      labels === undefined && s === bucketSession && te >= key + bucketWidth && te < key + 2 * bucketWidth
        ? key + bucketWidth
        : bucketKey(how, table, s, te);
    const bucketEnd = bucketStop(how, table, s, nextKey);
    if (nextKey !== key) {
      if (bucketSession >= 0) out.push(key, o, h, l, c, v, pv, trades, bucketSession);
      key = nextKey;
      bucketSession = s;
      o = open[i];
      h = -Infinity;
      l = Infinity;
      v = 0;
      pv = 0;
      trades = 0;
    }
    // Every row from here to the bucket's end belongs to it: found once per bucket (dense data
    // holds one row per source period, so the guess is checked with two reads), then no session,
    // bucket or ts test per row, and Math.max/min rather than branches, which random-walk highs
    // and lows mispredict.
    let stop = i + 1;
    if (bucketEnd - t > WIDE_BUCKET * width) {
      const guess = i + Math.ceil((bucketEnd - t) / width);
      stop =
        guess <= last && ts[guess - 1] < bucketEnd && (guess === last || ts[guess] >= bucketEnd)
          ? guess
          : lowerBound(ts, bucketEnd, stop, last);
    } else {
      while (stop < last && ts[stop] < bucketEnd) stop++;
    }
    for (; i < stop; i++) {
      const rowHigh = high[i];
      const rowLow = low[i];
      const rowClose = close[i];
      const rowVolume = volume[i];
      const rowVwap = vwap[i];
      h = Math.max(h, rowHigh);
      l = Math.min(l, rowLow);
      c = rowClose;
      v += rowVolume;
      pv += (rowVwap === rowVwap ? rowVwap : (rowHigh + rowLow + rowClose) / 3) * rowVolume;
      trades += tradeCount[i];
    }
  }
  if (bucketSession >= 0) out.push(key, o, h, l, c, v, pv, trades, bucketSession);
  if (stats) {
    stats.included += last - first - outside;
    stats.outsideSession += outside;
  }
  return out;
}

/** One pass over a finer level into a coarser target whose buckets contain the finer ones. */
function fromLevel(input: Level, table: SessionTable, how: Bucketing): Level {
  const out = new Level(Math.ceil(input.length / 2));
  const { ts, open, high, low, close, volume, pv: rowPv, tradeCount, session } = input;
  const { start } = table;
  let key = NaN;
  let o = 0;
  let h = 0;
  let l = 0;
  let c = 0;
  let v = 0;
  let pv = 0;
  let trades = 0;
  let bucketSession = -1;
  let i = 0;
  while (i < input.length) {
    const s = session[i];
    // A natural-aligned bar may be labelled before the open (09:00 holding 09:30–10:00).
    const nextKey = bucketKey(how, table, s, ts[i] < start[s] ? start[s] : ts[i]);
    const stop = bucketStop(how, table, s, nextKey);
    if (nextKey !== key) {
      if (bucketSession >= 0) out.push(key, o, h, l, c, v, pv, trades, bucketSession);
      key = nextKey;
      bucketSession = s;
      o = open[i];
      h = -Infinity;
      l = Infinity;
      v = 0;
      pv = 0;
      trades = 0;
    }
    for (; i < input.length && session[i] === s && ts[i] < stop; i++) {
      h = Math.max(h, high[i]);
      l = Math.min(l, low[i]);
      c = close[i];
      v += volume[i];
      pv += rowPv[i];
      trades += tradeCount[i];
    }
  }
  if (bucketSession >= 0) out.push(key, o, h, l, c, v, pv, trades, bucketSession);
  return out;
}

/** Throws a RangeError naming the first target that cannot be built from the source. */
export function assertDerivable(source: Timeframe, targets: readonly Timeframe[]): void {
  for (const target of targets) {
    if (!canDerive(source, target)) {
      throw new RangeError(
        `cannot build ${target} bars from ${source} bars; from ${source} the targets are: ${derivableTargets(source).join(', ') || 'none'}`,
      );
    }
  }
}

/**
 * Aggregates one series (sorted by ts, unique ts) to every target timeframe.
 *
 * ```ts
 * const { bars } = aggregateBars(minuteBars, { source: '1m', targets: ['5m', '1h', '1d'] });
 * bars['1h'] // BarColumns: 09:30 … 15:30 each session, the last one 30 minutes long
 * ```
 */
export function aggregateBars(bars: BarColumns, options: AggregateOptions): AggregateResult {
  const { source } = options;
  const session = options.session ?? 'regular';
  const alignment = options.alignment ?? 'session';
  const calendar = options.calendar ?? NYSE;
  assertDerivable(source, options.targets);
  const rows = bars.ts.length;
  const stats: AggregateStats = { rows, included: 0, outsideSession: 0, outsideCalendar: 0 };
  const result: AggregateResult = { bars: {}, stats };
  const targets = [...new Set(options.targets)].sort((a, b) => timeframeRank(a) - timeframeRank(b));
  if (targets.length === 0) return result;

  const table = sessionTable(session, calendar, rows > 0 ? bars.ts[0] : 0, rows > 0 ? bars.ts[rows - 1] : 0);
  const first = lowerBound(bars.ts, table.coverFrom);
  const last = lowerBound(bars.ts, table.coverTo);
  stats.outsideCalendar = first + (rows - last);
  if (stats.outsideCalendar > 0) {
    stats.outsideCalendarSpan = { first: bars.ts[first > 0 ? 0 : last], last: bars.ts[last < rows ? rows - 1 : first - 1] };
  }

  const width = barSpan(source);
  // Buckets are at most one per session (1d) or the rows' span in target lengths plus a short
  // last one per session (intraday): sized so, a level seldom grows.
  const sessions =
    last > first ? sessionEndingAfter(table, bars.ts[last - 1]) - sessionEndingAfter(table, bars.ts[first]) + 1 : 0;
  const built = new Map<Timeframe, Level>();
  let counted = false;
  for (const target of targets) {
    const how = bucketing(target, alignment, table);
    let parent: Level | undefined;
    for (const [timeframe, level] of built) if (nests(timeframe, target)) parent = level;
    let level: Level;
    if (parent) {
      level = fromLevel(parent, table, how);
    } else {
      const targetMinutes = INTRADAY_MINUTES[target];
      const estimate =
        (targetMinutes !== undefined ? Math.ceil(((last - first) * width) / (targetMinutes * MINUTE)) : 0) + sessions + 1;
      level = fromSource(bars, first, last, width, table, how, counted ? undefined : stats, Math.min(last - first, estimate));
      counted = true;
    }
    built.set(target, level);
  }
  for (const [target, level] of built) result.bars[target] = level.toColumns();
  return result;
}

/**
 * Marks the bars inside the mode's session windows (the membership rule the kernel uses: a bar
 * belongs to the session whose window it overlaps). 24h mode keeps everything.
 */
export function sessionMask(
  bars: BarColumns,
  timeframe: Timeframe,
  session: SessionMode,
  calendar: TradingCalendar = NYSE,
): Uint8Array {
  const { ts } = bars;
  const mask = new Uint8Array(ts.length);
  if (session === '24h') return mask.fill(1);
  const table = sessionTable(session, calendar, 0, ts.length > 0 ? ts[ts.length - 1] : 0);
  const span = barSpan(timeframe);
  let s = ts.length > 0 ? sessionEndingAfter(table, ts[0]) : 0;
  for (let i = 0; i < ts.length; i++) {
    while (s < table.length && ts[i] >= table.end[s]) s++;
    if (s >= table.length) break;
    mask[i] = ts[i] + span > table.start[s] ? 1 : 0;
  }
  return mask;
}
