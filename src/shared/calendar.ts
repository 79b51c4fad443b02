import { calendarDateSchema } from './dates.js';
import { formatIsoDate, fromWallClock, localDate, parseIsoDate, zoneOffsetMs } from './zone.js';

/** One trading session: its date and its regular open and close instants (epoch ms). */
export interface Session {
  /** YYYY-MM-DD, the session's date on the exchange's wall clock. */
  date: string;
  /** Position of the session in the calendar, counted from its first session (0). */
  index: number;
  open: number;
  close: number;
  /** True when the session closes early (13:00 for NYSE). */
  earlyClose: boolean;
}

/** Local wall-clock time as [hour, minute]. */
export type LocalTime = readonly [number, number];

export interface CalendarRules {
  name: string;
  timeZone: string;
  firstYear: number;
  lastYear: number;
  open: LocalTime;
  close: LocalTime;
  earlyClose: LocalTime;
  /**
   * Extended trading hours (pre-market open, post-market close, and the post-market close on
   * early-close days); without them the extended window equals the regular one.
   */
  extended?: { open: LocalTime; close: LocalTime; earlyClose: LocalTime };
  /** Full-day closures of a year, as YYYY-MM-DD (weekends need not be listed). */
  holidays(year: number): string[];
  /** Days of a year that close at `earlyClose` when they are sessions. */
  earlyCloses(year: number): string[];
}

const DAY_MS = 86_400_000;

/** Days since 1970-01-01 of a calendar date. */
function dayNumber(year: number, month: number, day: number): number {
  return Date.UTC(year, month - 1, day) / DAY_MS;
}

/** 0 = Sunday … 6 = Saturday */
function weekdayOf(dayNum: number): number {
  return (((dayNum + 4) % 7) + 7) % 7;
}

function isoOf(dayNum: number): string {
  const date = new Date(dayNum * DAY_MS);
  return formatIsoDate(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate());
}

/** The n-th (1-based) given weekday of a month; n = -1 for the last one. */
function nthWeekday(year: number, month: number, weekday: number, n: number): number {
  if (n > 0) {
    const first = dayNumber(year, month, 1);
    return first + ((weekday - weekdayOf(first) + 7) % 7) + (n - 1) * 7;
  }
  const last = dayNumber(year, month + 1, 1) - 1;
  return last - ((weekdayOf(last) - weekday + 7) % 7);
}

/** Saturday → the Friday before, Sunday → the Monday after. */
function nearestWeekday(dayNum: number): number {
  const weekday = weekdayOf(dayNum);
  if (weekday === 6) return dayNum - 1;
  if (weekday === 0) return dayNum + 1;
  return dayNum;
}

/** Easter Sunday (Gregorian; the anonymous algorithm). */
function easter(year: number): number {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return dayNumber(year, month, day);
}

const MONDAY = 1;
const TUESDAY = 2;
const WEDNESDAY = 3;
const THURSDAY = 4;
const FRIDAY = 5;
const SUNDAY = 0;

/** Closures decided on the day (mourning, weather, attacks), 2000 onwards. */
const NYSE_ADHOC_CLOSURES = [
  '2001-09-11',
  '2001-09-12',
  '2001-09-13',
  '2001-09-14',
  '2004-06-11',
  '2007-01-02',
  '2012-10-29',
  '2012-10-30',
  '2018-12-05',
  '2025-01-09',
];

/** Early closes outside the rules, 2000 onwards. */
const NYSE_ADHOC_EARLY_CLOSES = ['2003-12-26'];

/**
 * NYSE rules as exchange_calendars states them: New Year (Sunday → Monday; a Saturday New
 * Year is not observed), MLK, Presidents, Good Friday, Memorial, Juneteenth from 2022,
 * Independence, Labor, Thanksgiving, Christmas (Saturday → Friday, Sunday → Monday); 13:00
 * closes on July 3 (Monday, Tuesday, Thursday; Wednesday from 2013), on Friday July 5 before
 * 2013, the day after Thanksgiving and Christmas Eve (Monday–Thursday).
 */
export const NYSE_RULES: CalendarRules = {
  name: 'XNYS',
  timeZone: 'America/New_York',
  firstYear: 2000,
  lastYear: 2030,
  open: [9, 30],
  close: [16, 0],
  earlyClose: [13, 0],
  // Pre-market from 04:00, post-market to 20:00 (LEAN's market-hours database); on 13:00 days
  // the post-market ends at 17:00 (NYSE Arca and Nasdaq early-close schedules).
  extended: { open: [4, 0], close: [20, 0], earlyClose: [17, 0] },
  holidays(year) {
    const days: number[] = [];
    const newYear = dayNumber(year, 1, 1);
    if (weekdayOf(newYear) === SUNDAY) days.push(newYear + 1);
    else if (weekdayOf(newYear) !== 6) days.push(newYear);
    days.push(nthWeekday(year, 1, MONDAY, 3));
    days.push(nthWeekday(year, 2, MONDAY, 3));
    days.push(easter(year) - 2);
    days.push(nthWeekday(year, 5, MONDAY, -1));
    if (year >= 2022) days.push(nearestWeekday(dayNumber(year, 6, 19)));
    days.push(nearestWeekday(dayNumber(year, 7, 4)));
    days.push(nthWeekday(year, 9, MONDAY, 1));
    days.push(nthWeekday(year, 11, THURSDAY, 4));
    days.push(nearestWeekday(dayNumber(year, 12, 25)));
    return [...days.map(isoOf), ...NYSE_ADHOC_CLOSURES.filter((date) => date.startsWith(`${year}-`))];
  },
  earlyCloses(year) {
    const days: number[] = [];
    const july3 = dayNumber(year, 7, 3);
    const july3Weekday = weekdayOf(july3);
    if (july3Weekday === MONDAY || july3Weekday === TUESDAY || july3Weekday === THURSDAY) days.push(july3);
    if (july3Weekday === WEDNESDAY && year >= 2013) days.push(july3);
    const july5 = dayNumber(year, 7, 5);
    if (weekdayOf(july5) === FRIDAY && year < 2013) days.push(july5);
    days.push(nthWeekday(year, 11, THURSDAY, 4) + 1);
    const christmasEve = dayNumber(year, 12, 24);
    if (weekdayOf(christmasEve) >= MONDAY && weekdayOf(christmasEve) <= THURSDAY) days.push(christmasEve);
    return [...days.map(isoOf), ...NYSE_ADHOC_EARLY_CLOSES.filter((date) => date.startsWith(`${year}-`))];
  },
};

/** Which hours of a session count: the regular session, or pre-market through post-market. */
export type SessionHours = 'regular' | 'extended';

/** Start and end instants (epoch ms) of every session's hours, in session-index order. */
export interface SessionWindows {
  start: Float64Array;
  end: Float64Array;
}

/**
 * A trading calendar materialised for its year range: every session with its open and close
 * instants, computed from the local wall clock so nothing drifts across DST.
 */
export class TradingCalendar {
  readonly name: string;
  readonly timeZone: string;
  private readonly sessions: Session[] = [];
  private readonly byDate = new Map<string, Session>();
  private readonly holidaySet = new Set<string>();
  private readonly firstDay: number;
  private readonly lastDay: number;
  private readonly windowCache = new Map<SessionHours, SessionWindows>();

  constructor(readonly rules: CalendarRules) {
    this.name = rules.name;
    this.timeZone = rules.timeZone;
    this.firstDay = dayNumber(rules.firstYear, 1, 1);
    this.lastDay = dayNumber(rules.lastYear, 12, 31);
    const early = new Set<string>();
    for (let year = rules.firstYear; year <= rules.lastYear; year++) {
      for (const date of rules.holidays(year)) this.holidaySet.add(date);
      for (const date of rules.earlyCloses(year)) early.add(date);
    }
    for (let day = this.firstDay; day <= this.lastDay; day++) {
      const weekday = weekdayOf(day);
      const date = isoOf(day);
      if (weekday === 0 || weekday === 6 || this.holidaySet.has(date)) continue;
      const [year, month, dom] = parseIsoDate(date);
      const isEarly = early.has(date);
      const close = isEarly ? rules.earlyClose : rules.close;
      const session: Session = {
        date,
        index: this.sessions.length,
        open: fromWallClock(year, month, dom, rules.open[0], rules.open[1], rules.timeZone),
        close: fromWallClock(year, month, dom, close[0], close[1], rules.timeZone),
        earlyClose: isEarly,
      };
      this.sessions.push(session);
      this.byDate.set(date, session);
    }
  }

  /** First and last date the calendar covers. */
  get range(): { first: string; last: string } {
    return { first: isoOf(this.firstDay), last: isoOf(this.lastDay) };
  }

  private check(date: string): number {
    const [year, month, day] = parseIsoDate(date);
    const dayNum = dayNumber(year, month, day);
    if (dayNum < this.firstDay || dayNum > this.lastDay) {
      throw new RangeError(`${date} is outside the ${this.name} calendar (${this.range.first} … ${this.range.last})`);
    }
    return dayNum;
  }

  isSession(date: string): boolean {
    this.check(date);
    return this.byDate.has(date);
  }

  /** True for a weekday that is closed (a holiday or an ad-hoc closure). */
  isHoliday(date: string): boolean {
    this.check(date);
    return this.holidaySet.has(date);
  }

  /** The session on `date`, or undefined on a weekend or holiday. */
  session(date: string): Session | undefined {
    this.check(date);
    return this.byDate.get(date);
  }

  /** Number of sessions the calendar holds (the index of the last one plus one). */
  get sessionTotal(): number {
    return this.sessions.length;
  }

  /**
   * Every session's window for the given hours as columns, computed once and shared: the
   * aggregation kernel walks these instead of Session objects.
   */
  windows(hours: SessionHours): SessionWindows {
    let windows = this.windowCache.get(hours);
    if (windows) return windows;
    const start = new Float64Array(this.sessions.length);
    const end = new Float64Array(this.sessions.length);
    const extended = hours === 'extended' ? this.rules.extended : undefined;
    const minutes = ([hour, minute]: LocalTime) => (hour * 60 + minute) * 60_000;
    const offsets = this.sessions.map((session) => zoneOffsetMs(session.open, this.timeZone));
    this.sessions.forEach((session, i) => {
      if (!extended) {
        start[i] = session.open;
        end[i] = session.close;
        return;
      }
      const close = session.earlyClose ? extended.earlyClose : extended.close;
      const regularClose = session.earlyClose ? this.rules.earlyClose : this.rules.close;
      // The same UTC offset as both neighbours: no clock change near this day, so the extended
      // hours are a fixed distance from the regular ones; next to a change, ask the zone.
      if (i > 0 && i + 1 < this.sessions.length && offsets[i - 1] === offsets[i] && offsets[i + 1] === offsets[i]) {
        start[i] = session.open - (minutes(this.rules.open) - minutes(extended.open));
        end[i] = session.close + (minutes(close) - minutes(regularClose));
        return;
      }
      const [year, month, day] = parseIsoDate(session.date);
      start[i] = fromWallClock(year, month, day, extended.open[0], extended.open[1], this.timeZone);
      end[i] = fromWallClock(year, month, day, close[0], close[1], this.timeZone);
    });
    windows = { start, end };
    this.windowCache.set(hours, windows);
    return windows;
  }

  /** The session with this index (see Session.index). */
  sessionAt(index: number): Session | undefined {
    return this.sessions[index];
  }

  /** The first session strictly after `date`. */
  nextSession(date: string): Session {
    let day = this.check(date);
    for (;;) {
      day += 1;
      if (day > this.lastDay) throw new RangeError(`no ${this.name} session after ${date} within the calendar`);
      const session = this.byDate.get(isoOf(day));
      if (session) return session;
    }
  }

  /** The last session strictly before `date`. */
  previousSession(date: string): Session {
    let day = this.check(date);
    for (;;) {
      day -= 1;
      if (day < this.firstDay) throw new RangeError(`no ${this.name} session before ${date} within the calendar`);
      const session = this.byDate.get(isoOf(day));
      if (session) return session;
    }
  }

  /** Sessions with from <= date <= to. */
  sessionsBetween(from: string, to: string): Session[] {
    const first = this.check(from);
    const last = this.check(to);
    const out: Session[] = [];
    for (let day = first; day <= last; day++) {
      const session = this.byDate.get(isoOf(day));
      if (session) out.push(session);
    }
    return out;
  }

  /** The session whose regular hours contain the instant, if any. */
  sessionAtInstant(ts: number): Session | undefined {
    const session = this.byDate.get(localDate(ts, this.timeZone));
    return session && ts >= session.open && ts < session.close ? session : undefined;
  }

  holidays(year: number): string[] {
    return [...this.holidaySet].filter((date) => date.startsWith(`${year}-`)).sort();
  }

  earlyCloses(year: number): string[] {
    return this.sessions.filter((s) => s.earlyClose && s.date.startsWith(`${year}-`)).map((s) => s.date);
  }

  /** Number of sessions in a calendar year. */
  sessionCount(year: number): number {
    return this.sessionsBetween(`${year}-01-01`, `${year}-12-31`).length;
  }
}

/** The New York Stock Exchange, 2000–2030. */
export const NYSE = new TradingCalendar(NYSE_RULES);

/** Calendars by name, so that a kernel running in another thread can be told which one to use. */
export const CALENDARS: Readonly<Record<string, TradingCalendar>> = { [NYSE.name]: NYSE };

/** The calendar with this name (see CALENDARS); a RangeError names the known ones otherwise. */
export function calendarByName(name: string): TradingCalendar {
  const calendar = CALENDARS[name];
  if (!calendar) throw new RangeError(`unknown calendar ${JSON.stringify(name)}; known: ${Object.keys(CALENDARS).join(', ')}`);
  return calendar;
}

/** True when `date` is a YYYY-MM-DD session of the NYSE calendar (2000–2030). */
export function isNyseSession(date: string): boolean {
  try {
    return NYSE.isSession(date);
  } catch {
    return false;
  }
}

export const tradingDateSchema = calendarDateSchema.refine(isNyseSession, 'must be an NYSE trading session (2000–2030)');

/**
 * An NYSE session no later than today in New York: the date of a job that moves state forward
 * to it (a sync, the end-of-day pipeline), where a future date would block every real one.
 */
export const pastTradingDateSchema = tradingDateSchema.refine(
  (date) => date <= localDate(Date.now(), NYSE.timeZone),
  'must not be after today in New York',
);
