import type { TradingCalendar } from '../shared/calendar.js';
import { INTRADAY_MINUTES, type Timeframe } from './timeframes.js';
import { formatIsoDate, localDate, localMidnight, parseIsoDate, zoneOffsetMs } from '../shared/zone.js';

/**
 * Which hours bars are built from: `regular` (the calendar's regular session, the default for
 * stocks and ETFs), `extended` (pre-market through post-market, 04:00–20:00 for NYSE) or `24h`
 * (every UTC day from midnight, for futures and crypto; no calendar).
 */
export const SESSION_MODES = ['regular', 'extended', '24h'] as const;
export type SessionMode = (typeof SESSION_MODES)[number];

/**
 * Where intraday buckets of 1h and longer start: `session` anchors them at the session's open
 * (09:30, 10:30 … with a short last bar), `natural` on the local clock grid (09:00, 10:00 …).
 * Shorter buckets and 24h mode are the same under both.
 */
export const ALIGNMENTS = ['session', 'natural'] as const;
export type Alignment = (typeof ALIGNMENTS)[number];

const DAY = 86_400_000;

/**
 * The Monday from which days are paired into 2d bars: every UTC day in 24h mode (TimescaleDB's
 * origin), every session in the calendar modes.
 */
const PAIR_REFERENCE_DAY = Date.UTC(2000, 0, 3) / DAY;

/**
 * The sessions bars are bucketed into, as columns the kernels walk: each session's window and
 * the labels (period starts, epoch ms) of the 1d, 2d, 1w and 1M bars it belongs to.
 */
export interface SessionTable {
  readonly length: number;
  /** Bars with start <= ts < end belong to the session. */
  readonly start: Float64Array;
  readonly end: Float64Array;
  /** UTC offset of the wall clock during the session (ms): the natural grid is local. */
  readonly offset: Float64Array;
  readonly day: Float64Array;
  readonly pair: Float64Array;
  readonly week: Float64Array;
  readonly month: Float64Array;
  /** The instants the table covers; bars outside are outside the calendar, not just the session. */
  readonly coverFrom: number;
  readonly coverTo: number;
  /** The session's date (YYYY-MM-DD, local to the calendar; UTC in 24h mode). */
  date(index: number): string;
}

const isoOfDay = (dayNumber: number) => new Date(dayNumber * DAY).toISOString().slice(0, 10);
const dayNumberOf = (date: string) => {
  const [year, month, day] = parseIsoDate(date);
  return Date.UTC(year, month - 1, day) / DAY;
};
/** Days since 1970-01-01 of the Monday on or before the day. */
const mondayOf = (dayNumber: number) => dayNumber - ((dayNumber + 3) % 7);
const firstOfMonth = (date: string) => `${date.slice(0, 8)}01`;

const calendarTables = new WeakMap<TradingCalendar, Map<SessionMode, SessionTable>>();

/** Years a calendar table reaches past the current one before it has to grow. */
const TABLE_HORIZON_YEARS = 2;

/**
 * The calendar's sessions from its first through the end of the year holding `through` (and at
 * least TABLE_HORIZON_YEARS past the current year), built once per calendar and mode and
 * extended, never rebuilt, when a later instant is asked for. Session indexes are the
 * calendar's, so a table and its extension agree on every session they share.
 */
function calendarTable(calendar: TradingCalendar, mode: 'regular' | 'extended', through: number): SessionTable {
  let perMode = calendarTables.get(calendar);
  if (!perMode) {
    perMode = new Map();
    calendarTables.set(calendar, perMode);
  }
  const zone = calendar.timeZone;
  const yearOf = (t: number) => (Number.isFinite(t) ? Number(localDate(t, zone).slice(0, 4)) : -Infinity);
  const { firstYear, lastYear } = calendar.rules;
  const wanted = Math.max(yearOf(through), new Date().getUTCFullYear() + TABLE_HORIZON_YEARS);
  const throughYear = Math.min(Math.max(wanted, firstYear), lastYear);
  const cached = perMode.get(mode);
  if (cached && cached.coverTo >= localMidnight(formatIsoDate(throughYear + 1, 1, 1), zone)) return cached;
  const length = calendar.sessionsThrough(throughYear);
  const { start, end } = calendar.windows(mode, length);
  const done = cached?.length ?? 0;
  const grow = (old: Float64Array | undefined) => {
    const column = new Float64Array(length);
    if (old) column.set(old);
    return column;
  };
  const offset = grow(cached?.offset);
  const day = grow(cached?.day);
  const pair = grow(cached?.pair);
  const week = grow(cached?.week);
  const month = grow(cached?.month);
  const dates: string[] = new Array<string>(length);
  for (let i = 0; i < done; i++) dates[i] = cached!.date(i);
  const midnights = new Map<string, number>();
  const midnight = (date: string) => {
    let value = midnights.get(date);
    if (value === undefined) {
      value = localMidnight(date, zone);
      midnights.set(date, value);
    }
    return value;
  };
  const pairFrom = pairAnchor(calendar);
  for (let i = done; i < length; i++) {
    const session = calendar.sessionAt(i)!;
    const date = session.date;
    dates[i] = date;
    // The offset at the open holds all day: clocks change at night.
    offset[i] = zoneOffsetMs(session.open, zone);
    // With the same offset as the previous session, no clock change lies between them, so the
    // day's midnight is plain arithmetic; next to a change, ask the zone.
    day[i] = i > 0 && offset[i] === offset[i - 1] ? start[i] - ((((start[i] + offset[i]) % DAY) + DAY) % DAY) : midnight(date);
    week[i] = midnight(isoOfDay(mondayOf(dayNumberOf(date))));
    month[i] = midnight(firstOfMonth(date));
  }
  // Sessions pair up from a fixed session, so a 2d bar never depends on the batch or on how far
  // back the calendar reaches.
  for (let i = done; i < length; i++) {
    const first = i - ((((i - pairFrom) % 2) + 2) % 2);
    pair[i] = first >= 0 ? day[first] : day[i];
  }
  const table: SessionTable = {
    length,
    start,
    end,
    offset,
    day,
    pair,
    week,
    month,
    coverFrom: localMidnight(calendar.range.first, zone),
    coverTo: localMidnight(formatIsoDate(throughYear + 1, 1, 1), zone),
    date: (index) => dates[index],
  };
  perMode.set(mode, table);
  return table;
}

/** Index of the session 2d bars pair up from: the first on or after PAIR_REFERENCE_DAY. */
function pairAnchor(calendar: TradingCalendar): number {
  const reference = isoOfDay(PAIR_REFERENCE_DAY);
  const session = calendar.session(reference) ?? calendar.nextSession(reference);
  return session.index;
}

/** Every UTC day from the one holding `from` to the one holding `to`, as 24h-mode sessions. */
function utcDayTable(from: number, to: number): SessionTable {
  const firstDay = Math.floor(from / DAY);
  const length = Math.max(0, Math.floor(to / DAY) - firstDay + 1);
  const start = new Float64Array(length);
  const end = new Float64Array(length);
  const day = new Float64Array(length);
  const pair = new Float64Array(length);
  const week = new Float64Array(length);
  const month = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    const dayNumber = firstDay + i;
    start[i] = dayNumber * DAY;
    end[i] = start[i] + DAY;
    day[i] = start[i];
    pair[i] = (dayNumber - ((((dayNumber - PAIR_REFERENCE_DAY) % 2) + 2) % 2)) * DAY;
    week[i] = mondayOf(dayNumber) * DAY;
    const date = new Date(start[i]);
    month[i] = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
  }
  return {
    length,
    start,
    end,
    offset: new Float64Array(length),
    day,
    pair,
    week,
    month,
    coverFrom: -Infinity,
    coverTo: Infinity,
    date: (index) => isoOfDay(firstDay + index),
  };
}

/**
 * The session table for a mode: the calendar's sessions for `regular` and `extended` (built
 * once per calendar and mode), the UTC days spanning [from, to] for `24h`.
 */
export function sessionTable(mode: SessionMode, calendar: TradingCalendar, from: number, to: number): SessionTable {
  return mode === '24h' ? utcDayTable(from, to) : calendarTable(calendar, mode, to);
}

/**
 * How long a bar of the timeframe lasts as far as session membership goes: its length for
 * intraday bars, a day for 1d (labelled at midnight, it overlaps its session's window).
 */
export function barSpan(timeframe: Timeframe): number {
  const minutes = INTRADAY_MINUTES[timeframe];
  return minutes !== undefined ? minutes * 60_000 : DAY;
}

/** Index of the first session whose window ends after `t` (table.length when none does). */
export function sessionEndingAfter(table: SessionTable, t: number): number {
  let low = 0;
  let high = table.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (table.end[mid] > t) high = mid;
    else low = mid + 1;
  }
  return low;
}

/** Index of the last session whose 1d label is at or before `t` (-1 when none is). */
function sessionDayAtOrBefore(table: SessionTable, t: number): number {
  let low = 0;
  let high = table.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (table.day[mid] <= t) low = mid + 1;
    else high = mid;
  }
  return low - 1;
}

/**
 * The period [start, end) of the bar of `timeframe` that covers the instant `t`, stretched to
 * whole days for intraday timeframes: widening a batch's range to these bounds means every bar
 * it stores is built from all the base bars of its period.
 */
export function periodBounds(
  timeframe: Timeframe,
  t: number,
  mode: SessionMode,
  calendar: TradingCalendar,
): { start: number; end: number } {
  if (mode === '24h') {
    const dayNumber = Math.floor(t / DAY);
    if (timeframe === '2d') {
      const first = dayNumber - ((((dayNumber - PAIR_REFERENCE_DAY) % 2) + 2) % 2);
      return { start: first * DAY, end: (first + 2) * DAY };
    }
    if (timeframe === '1w') return { start: mondayOf(dayNumber) * DAY, end: (mondayOf(dayNumber) + 7) * DAY };
    if (timeframe === '1M') {
      const date = new Date(t);
      return {
        start: Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1),
        end: Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1),
      };
    }
    return { start: dayNumber * DAY, end: (dayNumber + 1) * DAY };
  }
  const zone = calendar.timeZone;
  const date = localDate(t, zone);
  const dayNumber = dayNumberOf(date);
  if (timeframe === '2d') {
    const table = calendarTable(calendar, mode, t);
    const index = sessionDayAtOrBefore(table, t);
    if (index >= 0) {
      const first = index - ((((index - pairAnchor(calendar)) % 2) + 2) % 2);
      const next = first + 2;
      return { start: table.pair[index], end: next < table.length ? table.day[next] : table.coverTo };
    }
  }
  if (timeframe === '1w') {
    const monday = mondayOf(dayNumber);
    return { start: localMidnight(isoOfDay(monday), zone), end: localMidnight(isoOfDay(monday + 7), zone) };
  }
  if (timeframe === '1M') {
    const [year, month] = parseIsoDate(date);
    const next = month === 12 ? formatIsoDate(year + 1, 1, 1) : formatIsoDate(year, month + 1, 1);
    return { start: localMidnight(firstOfMonth(date), zone), end: localMidnight(next, zone) };
  }
  return { start: localMidnight(date, zone), end: localMidnight(isoOfDay(dayNumber + 1), zone) };
}

/** The instant a day starts in the mode's clock: local midnight of the calendar, or UTC midnight. */
export function dayStart(t: number, mode: SessionMode, calendar: TradingCalendar): number {
  return mode === '24h' ? Math.floor(t / DAY) * DAY : localMidnight(localDate(t, calendar.timeZone), calendar.timeZone);
}
