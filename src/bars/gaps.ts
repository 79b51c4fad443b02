/**
 * Gaps: the expected bars of each session that are missing, and their forward fill.
 *
 * The expected grid of a session is the timeframe's buckets inside the session mode's window
 * (390 one-minute slots on a regular NYSE day, 210 on an early-close day; overnight, weekends
 * and holidays expect nothing). For 1d and longer a session expects one bar. A forward fill
 * puts o=h=l=c = the previous bar's close, volume 0, vwap = close into each missing intraday
 * slot after the session's first real bar — never before it, never across sessions.
 */
import { allocateBars, BAR_COLUMN_NAMES, type BarColumns } from './columns.js';
import { NYSE, type TradingCalendar } from '../shared/calendar.js';
import { barSpan, sessionEndingAfter, sessionTable, type Alignment, type SessionMode, type SessionTable } from './sessions.js';
import { INTRADAY_MINUTES, type Timeframe } from './timeframes.js';

const MINUTE = 60_000;

export interface GapOptions {
  /** Timeframe of the bars scanned. */
  timeframe: Timeframe;
  /** Default `regular`. */
  session?: SessionMode;
  /** Default `session`; decides the slots of intraday timeframes of 1h and longer. */
  alignment?: Alignment;
  /** Default NYSE. */
  calendar?: TradingCalendar;
  /** Expect bars from this instant (epoch ms); default: the start of the first bar's session. */
  from?: number;
  /** Expect bars before this instant; default: the end of the last bar's session. */
  to?: number;
}

/** The gaps of one session. */
export interface SessionGaps {
  date: string;
  expected: number;
  present: number;
  missing: number;
  /** Most consecutive missing slots. */
  longestMissingRun: number;
  /** Missing slots after the session's first bar: what a forward fill puts bars into. */
  fillable: number;
}

/** Gaps of a series over a range: totals, and the sessions that have any. */
export interface GapReport {
  timeframe: Timeframe;
  sessions: number;
  expected: number;
  present: number;
  missing: number;
  longestMissingRun: number;
  /** Date of the session holding the longest run, when there is a gap. */
  longestMissingRunDate?: string;
  fillable: number;
  /** Sessions with at least one missing slot, in date order. */
  gappy: SessionGaps[];
}

/** An empty report, the identity of mergeGapReports. */
export function emptyGapReport(timeframe: Timeframe): GapReport {
  return { timeframe, sessions: 0, expected: 0, present: 0, missing: 0, longestMissingRun: 0, fillable: 0, gappy: [] };
}

/** Combines reports of consecutive, non-overlapping ranges, keeping at most `maxListed` gappy sessions. */
export function mergeGapReports(a: GapReport, b: GapReport, maxListed = Infinity): GapReport {
  const longest = b.longestMissingRun > a.longestMissingRun ? b : a;
  return {
    timeframe: a.timeframe,
    sessions: a.sessions + b.sessions,
    expected: a.expected + b.expected,
    present: a.present + b.present,
    missing: a.missing + b.missing,
    longestMissingRun: longest.longestMissingRun,
    ...(longest.longestMissingRunDate !== undefined ? { longestMissingRunDate: longest.longestMissingRunDate } : {}),
    fillable: a.fillable + b.fillable,
    gappy: [...a.gappy, ...b.gappy].slice(0, maxListed),
  };
}

/** The expected slots of one session: `count` buckets from `first`, `width` apart, clipped to the window. */
interface SlotGrid {
  first: number;
  width: number;
  count: number;
}

function slotGrid(table: SessionTable, s: number, minutes: number | undefined, natural: boolean): SlotGrid {
  const start = table.start[s];
  const end = table.end[s];
  if (minutes === undefined) return { first: start, width: end - start, count: 1 };
  const width = minutes * MINUTE;
  const offset = table.offset[s];
  const first = natural ? Math.floor((start + offset) / width) * width - offset : start;
  return { first, width, count: Math.ceil((end - first) / width) };
}

interface Walk {
  table: SessionTable;
  grid: SlotGrid;
  session: number;
  /** Per slot, the index of the last bar in it, or -1. */
  slotBar: Int32Array;
}

/**
 * Calls `visit` for each session whose window overlaps [from, to), with the bars mapped onto
 * the session's slots. A bar belongs to the slot its (window-clamped) start falls in.
 */
function walkSessions(bars: BarColumns, options: GapOptions, from: number, to: number, visit: (walk: Walk) => void): void {
  const mode = options.session ?? 'regular';
  const calendar = options.calendar ?? NYSE;
  const minutes = INTRADAY_MINUTES[options.timeframe];
  const natural = (options.alignment ?? 'session') === 'natural';
  const barWidth = barSpan(options.timeframe);
  const table = sessionTable(mode, calendar, from, to - 1);
  const { ts } = bars;
  let slotBar = new Int32Array(0);
  let row = 0;
  for (let s = sessionEndingAfter(table, from); s < table.length && table.start[s] < to; s++) {
    const start = table.start[s];
    const end = table.end[s];
    const grid = slotGrid(table, s, minutes, natural);
    if (slotBar.length < grid.count) slotBar = new Int32Array(grid.count);
    slotBar.fill(-1, 0, grid.count);
    while (row < ts.length && ts[row] + barWidth <= start) row++;
    for (; row < ts.length && ts[row] < end; row++) {
      const te = ts[row] < start ? start : ts[row];
      slotBar[Math.floor((te - grid.first) / grid.width)] = row;
    }
    visit({ table, grid, session: s, slotBar });
  }
}

/** The default range: from the first bar's session start to the last bar's session end. */
function defaultRange(bars: BarColumns, options: GapOptions): { from: number; to: number } {
  const { ts } = bars;
  if (options.from !== undefined && options.to !== undefined) return { from: options.from, to: options.to };
  if (ts.length === 0) return { from: options.from ?? 0, to: options.to ?? 0 };
  const table = sessionTable(options.session ?? 'regular', options.calendar ?? NYSE, ts[0], ts[ts.length - 1]);
  const firstSession = sessionEndingAfter(table, ts[0]);
  const last = ts[ts.length - 1];
  let lastSession = sessionEndingAfter(table, last);
  // The last bar's session is the last one starting before the bar ends (a post-market bar's is the day's).
  if (lastSession >= table.length || table.start[lastSession] >= last + barSpan(options.timeframe)) lastSession--;
  lastSession = Math.max(0, lastSession);
  return {
    from: options.from ?? Math.min(ts[0], table.start[Math.min(firstSession, table.length - 1)]),
    to: options.to ?? Math.max(last + 1, table.end[lastSession]),
  };
}

/** Counts the expected, present and missing bars of each session in the range (bars sorted by ts). */
export function scanGaps(bars: BarColumns, options: GapOptions): GapReport {
  const { from, to } = defaultRange(bars, options);
  const report = emptyGapReport(options.timeframe);
  walkSessions(bars, options, from, to, ({ table, grid, session, slotBar }) => {
    let expected = 0;
    let present = 0;
    let run = 0;
    let longest = 0;
    let fillable = 0;
    let seenBar = false;
    for (let k = 0; k < grid.count; k++) {
      const slotStart = Math.max(grid.first + k * grid.width, table.start[session]);
      if (slotStart < from || slotStart >= to) continue;
      expected++;
      if (slotBar[k] >= 0) {
        present++;
        seenBar = true;
        run = 0;
      } else {
        run++;
        if (run > longest) longest = run;
        if (seenBar) fillable++;
      }
    }
    if (expected === 0) return;
    const date = table.date(session);
    report.sessions++;
    report.expected += expected;
    report.present += present;
    report.missing += expected - present;
    report.fillable += fillable;
    if (longest > report.longestMissingRun) {
      report.longestMissingRun = longest;
      report.longestMissingRunDate = date;
    }
    if (present < expected)
      report.gappy.push({ date, expected, present, missing: expected - present, longestMissingRun: longest, fillable });
  });
  return report;
}

/**
 * The forward-fill bars for an intraday series: one per missing slot after each session's
 * first bar and before `to` (default: the end of the last bar's session), sorted by ts.
 * Daily and longer timeframes get none: a session without bars has nothing to carry forward.
 */
export function fillGaps(bars: BarColumns, options: GapOptions): BarColumns {
  if (INTRADAY_MINUTES[options.timeframe] === undefined || bars.ts.length === 0) return allocateBars(0);
  const { from, to } = defaultRange(bars, options);
  const fills: Array<[number, number]> = [];
  walkSessions(bars, options, from, to, ({ table, grid, session, slotBar }) => {
    let previousClose = NaN;
    for (let k = 0; k < grid.count; k++) {
      const label = grid.first + k * grid.width;
      if (Math.max(label, table.start[session]) >= to) break;
      if (slotBar[k] >= 0) previousClose = bars.close[slotBar[k]];
      else if (previousClose === previousClose && label >= from) fills.push([label, previousClose]);
    }
  });
  const out = allocateBars(fills.length);
  fills.forEach(([ts, price], i) => {
    out.ts[i] = ts;
    out.open[i] = price;
    out.high[i] = price;
    out.low[i] = price;
    out.close[i] = price;
    out.volume[i] = 0;
    out.vwap[i] = price;
    out.tradeCount[i] = 0;
  });
  return out;
}

/** A series merged with its fill bars (disjoint ts, both sorted), with a mask of the fills. */
export function mergeFills(bars: BarColumns, fills: BarColumns): { bars: BarColumns; filled: Uint8Array } {
  const total = bars.ts.length + fills.ts.length;
  const out = allocateBars(total);
  const filled = new Uint8Array(total);
  let i = 0;
  let f = 0;
  for (let k = 0; k < total; k++) {
    const takeFill = f < fills.ts.length && (i >= bars.ts.length || fills.ts[f] < bars.ts[i]);
    const source = takeFill ? fills : bars;
    const row = takeFill ? f++ : i++;
    for (const name of BAR_COLUMN_NAMES) out[name][k] = source[name][row];
    filled[k] = takeFill ? 1 : 0;
  }
  return { bars: out, filled };
}
