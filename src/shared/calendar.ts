import { calendarDateSchema, YEAR_RANGE } from './dates.js';
import { formatIsoDate, fromWallClock, localDate, parseIsoDate, zoneOffsetMs } from './zone.js';

/** One trading session: its date and its regular open and close instants (epoch ms). */
export interface Session {
  /** YYYY-MM-DD, the session's date on the exchange's wall clock. */
  date: string;
  /** Position of the session in the calendar, counted from its first session (0). */
  index: number;
  open: number;
  close: number;
  /** True when the session closes before the regular close (13:00 on NYSE's early-close days). */
  earlyClose: boolean;
}

/** Local wall-clock time as [hour, minute]. */
export type LocalTime = readonly [number, number];

/** A session that closes before the regular close, and when. */
export interface EarlyClose {
  date: string;
  close: LocalTime;
}

export interface CalendarRules {
  name: string;
  timeZone: string;
  /** The first year the rules are vouched for: the calendar starts on its January 1. */
  firstYear: number;
  /** The last year a date may name; the rules themselves have no end year. */
  lastYear: number;
  open: LocalTime;
  close: LocalTime;
  /**
   * Extended trading hours (pre-market open, post-market close, and the post-market close on
   * early-close days); without them the extended window equals the regular one.
   */
  extended?: { open: LocalTime; close: LocalTime; earlyClose: LocalTime };
  /** Full-day closures of a year, as YYYY-MM-DD (weekends need not be listed). */
  holidays(year: number): string[];
  /** Days of a year that close early when they are sessions, with their closing time. */
  earlyCloses(year: number): EarlyClose[];
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
const SATURDAY = 6;
const SUNDAY = 0;

const ONE_PM: LocalTime = [13, 0];
const TWO_PM: LocalTime = [14, 0];

/** Closures decided on the day (mourning, weather, attacks), 1990 onwards. */
const NYSE_ADHOC_CLOSURES = [
  '1994-04-27', // Richard Nixon's funeral
  '2001-09-11', // the September 11 attacks, through the 14th
  '2001-09-12',
  '2001-09-13',
  '2001-09-14',
  '2004-06-11', // Ronald Reagan's funeral
  '2007-01-02', // Gerald Ford's funeral
  '2012-10-29', // Hurricane Sandy
  '2012-10-30',
  '2018-12-05', // George H. W. Bush's funeral
  '2025-01-09', // Jimmy Carter's funeral
];

/** Early closes outside the rules, 1990 onwards, with their closing time. */
const NYSE_ADHOC_EARLY_CLOSES: ReadonlyArray<readonly [string, LocalTime]> = [
  ['1994-02-11', [14, 30]], // snowstorm
  ['1996-01-08', [14, 0]], // snowstorm
  ['1997-10-27', [15, 30]], // market-wide circuit breaker
  ['1997-12-26', ONE_PM],
  ['2003-12-26', ONE_PM],
];

/**
 * NYSE rules from 1990, each with the years it applies (NYSE's closings history as
 * pandas_market_calendars and exchange_calendars record it): New Year (Sunday → Monday; a
 * Saturday New Year is not observed on the Friday before), MLK Day from 1998, Washington's
 * Birthday, Good Friday, Memorial, Juneteenth from 2022, Independence, Labor, Thanksgiving,
 * Christmas (Saturday → Friday, Sunday → Monday), plus the ad-hoc closures above. Early
 * closes: Christmas Eve (Monday–Thursday) at 14:00 before 1993 and 13:00 since; the day after
 * Thanksgiving at 14:00 in 1992 and 13:00 since 1993; July 3 at 13:00 on a Monday, Tuesday or
 * Thursday from 1995 and on a Wednesday from 2013; Friday July 5 at 13:00 from 1996 to 2012.
 * No rule has an end year: `lastYear` is only the last year a date may name (YEAR_RANGE).
 */
export const NYSE_RULES: CalendarRules = {
  name: 'XNYS',
  timeZone: 'America/New_York',
  firstYear: 1990,
  lastYear: YEAR_RANGE.last,
  open: [9, 30],
  close: [16, 0],
  // Pre-market from 04:00, post-market to 20:00 (LEAN's market-hours database); on early-close
  // days the post-market ends at 17:00 (NYSE Arca and Nasdaq early-close schedules).
  extended: { open: [4, 0], close: [20, 0], earlyClose: [17, 0] },
  holidays(year) {
    const days: number[] = [];
    const newYear = dayNumber(year, 1, 1);
    if (weekdayOf(newYear) === SUNDAY) days.push(newYear + 1);
    else if (weekdayOf(newYear) !== SATURDAY) days.push(newYear);
    if (year >= 1998) days.push(nthWeekday(year, 1, MONDAY, 3));
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
    const days: Array<[number, LocalTime]> = [];
    const july3 = dayNumber(year, 7, 3);
    const july3Weekday = weekdayOf(july3);
    if (year >= 1995 && (july3Weekday === MONDAY || july3Weekday === TUESDAY || july3Weekday === THURSDAY)) {
      days.push([july3, ONE_PM]);
    }
    if (year >= 2013 && july3Weekday === WEDNESDAY) days.push([july3, ONE_PM]);
    const july5 = dayNumber(year, 7, 5);
    if (year >= 1996 && year <= 2012 && weekdayOf(july5) === FRIDAY) days.push([july5, ONE_PM]);
    if (year >= 1992) days.push([nthWeekday(year, 11, THURSDAY, 4) + 1, year >= 1993 ? ONE_PM : TWO_PM]);
    const christmasEve = dayNumber(year, 12, 24);
    if (weekdayOf(christmasEve) >= MONDAY && weekdayOf(christmasEve) <= THURSDAY) {
      days.push([christmasEve, year >= 1993 ? ONE_PM : TWO_PM]);
    }
    return [
      ...days.map(([day, close]) => ({ date: isoOf(day), close })),
      ...NYSE_ADHOC_EARLY_CLOSES.filter(([date]) => date.startsWith(`${year}-`)).map(([date, close]) => ({ date, close })),
    ];
  },
};

/** Which hours of a session count: the regular session, or pre-market through post-market. */
export type SessionHours = 'regular' | 'extended';

/** Start and end instants (epoch ms) of every session's hours, in session-index order. */
export interface SessionWindows {
  start: Float64Array;
  end: Float64Array;
}

/** One year of a calendar: its sessions and closures, computed the first time it is asked for. */
interface CalendarYear {
  sessions: Session[];
  byDate: Map<string, Session>;
  /** Weekday closures, sorted. */
  holidays: string[];
}

/**
 * A trading calendar from its rules: every session with its open and close instants, computed
 * from the local wall clock so nothing drifts across DST. Years are worked out when first used
 * and kept, so a calendar reaching to 2199 costs only the years a process touches.
 */
export class TradingCalendar {
  readonly name: string;
  readonly timeZone: string;
  private readonly firstDay: number;
  private readonly lastDay: number;
  private readonly years = new Map<number, CalendarYear>();
  /** yearStart[k]: sessions before January 1 of firstYear + k (filled as far as asked). */
  private readonly yearStart: number[] = [0];
  private readonly windowCache = new Map<SessionHours, SessionWindows>();

  constructor(readonly rules: CalendarRules) {
    this.name = rules.name;
    this.timeZone = rules.timeZone;
    this.firstDay = dayNumber(rules.firstYear, 1, 1);
    this.lastDay = dayNumber(rules.lastYear, 12, 31);
  }

  /** First and last date the calendar covers. */
  get range(): { first: string; last: string } {
    return { first: isoOf(this.firstDay), last: isoOf(this.lastDay) };
  }

  /** Weekday closures of a year, sorted (the rules may list weekends and duplicates). */
  private closures(year: number): string[] {
    const weekday = (date: string) => {
      const [y, m, d] = parseIsoDate(date);
      const day = weekdayOf(dayNumber(y, m, d));
      return day !== 0 && day !== 6;
    };
    return [...new Set(this.rules.holidays(year))].filter((date) => date.startsWith(`${year}-`) && weekday(date)).sort();
  }

  /** Sessions in a year, counted without computing their instants. */
  private countSessions(year: number): number {
    let weekdays = 0;
    for (let day = dayNumber(year, 1, 1), end = dayNumber(year + 1, 1, 1); day < end; day++) {
      const weekday = weekdayOf(day);
      if (weekday !== 0 && weekday !== 6) weekdays++;
    }
    return weekdays - this.closures(year).length;
  }

  /** Sessions before January 1 of `year` (firstYear ≤ year ≤ lastYear + 1). */
  private sessionsBefore(year: number): number {
    const k = year - this.rules.firstYear;
    while (this.yearStart.length <= k) {
      const last = this.yearStart.length - 1;
      this.yearStart.push(this.yearStart[last] + this.countSessions(this.rules.firstYear + last));
    }
    return this.yearStart[k];
  }

  private year(year: number): CalendarYear {
    let cached = this.years.get(year);
    if (cached) return cached;
    const { rules } = this;
    const holidays = this.closures(year);
    const closed = new Set(holidays);
    const early = new Map(rules.earlyCloses(year).map((entry) => [entry.date, entry.close] as const));
    const sessions: Session[] = [];
    const byDate = new Map<string, Session>();
    let index = this.sessionsBefore(year);
    // The previous session's UTC offset: most days share it, which one zone lookup confirms.
    let offset = NaN;
    for (let day = dayNumber(year, 1, 1), end = dayNumber(year + 1, 1, 1); day < end; day++) {
      const weekday = weekdayOf(day);
      const date = isoOf(day);
      if (weekday === 0 || weekday === 6 || closed.has(date)) continue;
      const [, month, dom] = parseIsoDate(date);
      const close = early.get(date) ?? rules.close;
      const naiveOpen = Date.UTC(year, month - 1, dom, rules.open[0], rules.open[1]);
      let open = naiveOpen - offset;
      if (Number.isNaN(offset) || zoneOffsetMs(open, rules.timeZone) !== offset) {
        open = fromWallClock(year, month, dom, rules.open[0], rules.open[1], rules.timeZone);
        offset = naiveOpen - open;
      }
      const session: Session = {
        date,
        index: index++,
        open,
        // Clocks change at night, never between a session's open and its close.
        close: Date.UTC(year, month - 1, dom, close[0], close[1]) - offset,
        earlyClose: early.has(date),
      };
      sessions.push(session);
      byDate.set(date, session);
    }
    cached = { sessions, byDate, holidays };
    this.years.set(year, cached);
    return cached;
  }

  private check(date: string): number {
    const [year, month, day] = parseIsoDate(date);
    const dayNum = dayNumber(year, month, day);
    if (dayNum < this.firstDay || dayNum > this.lastDay) {
      throw new RangeError(`${date} is outside the ${this.name} calendar (${this.range.first} … ${this.range.last})`);
    }
    return dayNum;
  }

  private sessionOnDay(day: number): Session | undefined {
    const date = isoOf(day);
    return this.year(Number(date.slice(0, 4))).byDate.get(date);
  }

  isSession(date: string): boolean {
    return this.sessionOnDay(this.check(date)) !== undefined;
  }

  /** True for a weekday that is closed (a holiday or an ad-hoc closure). */
  isHoliday(date: string): boolean {
    this.check(date);
    return this.year(Number(date.slice(0, 4))).holidays.includes(date);
  }

  /** The session on `date`, or undefined on a weekend or holiday. */
  session(date: string): Session | undefined {
    return this.sessionOnDay(this.check(date));
  }

  /** Number of sessions the calendar holds (the index of the last one plus one). */
  get sessionTotal(): number {
    return this.sessionsBefore(this.rules.lastYear + 1);
  }

  /** Number of sessions from the calendar's first through the last one of `year`. */
  sessionsThrough(year: number): number {
    return this.sessionsBefore(Math.min(Math.max(year, this.rules.firstYear - 1), this.rules.lastYear) + 1);
  }

  /**
   * The windows of the first `count` sessions for the given hours, as columns: the aggregation
   * kernel walks these instead of Session objects. Computed once and extended when a later
   * session is asked for.
   */
  windows(hours: SessionHours, count: number): SessionWindows {
    const cached = this.windowCache.get(hours);
    if (cached && cached.start.length >= count) {
      return { start: cached.start.subarray(0, count), end: cached.end.subarray(0, count) };
    }
    const done = cached?.start.length ?? 0;
    const start = new Float64Array(count);
    const end = new Float64Array(count);
    if (cached) {
      start.set(cached.start);
      end.set(cached.end);
    }
    const extended = hours === 'extended' ? this.rules.extended : undefined;
    const minutes = ([hour, minute]: LocalTime) => (hour * 60 + minute) * 60_000;
    const offsetAt = (i: number) => zoneOffsetMs(this.sessionAt(i)!.open, this.timeZone);
    for (let i = done; i < count; i++) {
      const session = this.sessionAt(i)!;
      if (!extended) {
        start[i] = session.open;
        end[i] = session.close;
        continue;
      }
      // A regular close and the same UTC offset as both neighbours: no clock change near this
      // day, so the extended hours are a fixed distance from the regular ones; otherwise ask
      // the zone.
      const offset = offsetAt(i);
      if (!session.earlyClose && i > 0 && i + 1 < count && offsetAt(i - 1) === offset && offsetAt(i + 1) === offset) {
        start[i] = session.open - (minutes(this.rules.open) - minutes(extended.open));
        end[i] = session.close + (minutes(extended.close) - minutes(this.rules.close));
        continue;
      }
      const close = session.earlyClose ? extended.earlyClose : extended.close;
      const [year, month, day] = parseIsoDate(session.date);
      start[i] = fromWallClock(year, month, day, extended.open[0], extended.open[1], this.timeZone);
      end[i] = fromWallClock(year, month, day, close[0], close[1], this.timeZone);
    }
    const windows = { start, end };
    this.windowCache.set(hours, windows);
    return windows;
  }

  /** The session with this index (see Session.index). */
  sessionAt(index: number): Session | undefined {
    if (!Number.isInteger(index) || index < 0 || index >= this.sessionTotal) return undefined;
    let low = 0;
    let high = this.rules.lastYear - this.rules.firstYear;
    // The last year whose first session index is at or before `index`.
    while (low < high) {
      const mid = (low + high + 1) >>> 1;
      if (this.sessionsBefore(this.rules.firstYear + mid) <= index) low = mid;
      else high = mid - 1;
    }
    const year = this.rules.firstYear + low;
    return this.year(year).sessions[index - this.sessionsBefore(year)];
  }

  /** The first session strictly after `date`. */
  nextSession(date: string): Session {
    let day = this.check(date);
    for (;;) {
      day += 1;
      if (day > this.lastDay) throw new RangeError(`no ${this.name} session after ${date} within the calendar`);
      const session = this.sessionOnDay(day);
      if (session) return session;
    }
  }

  /** The last session strictly before `date`. */
  previousSession(date: string): Session {
    let day = this.check(date);
    for (;;) {
      day -= 1;
      if (day < this.firstDay) throw new RangeError(`no ${this.name} session before ${date} within the calendar`);
      const session = this.sessionOnDay(day);
      if (session) return session;
    }
  }

  /** Sessions with from <= date <= to. */
  sessionsBetween(from: string, to: string): Session[] {
    const first = this.check(from);
    const last = this.check(to);
    const out: Session[] = [];
    for (let year = Number(from.slice(0, 4)); year <= Number(to.slice(0, 4)) && first <= last; year++) {
      for (const session of this.year(year).sessions) if (session.date >= from && session.date <= to) out.push(session);
    }
    return out;
  }

  /** The session whose regular hours contain the instant, if any. */
  sessionAtInstant(ts: number): Session | undefined {
    const date = localDate(ts, this.timeZone);
    const year = Number(date.slice(0, 4));
    if (year < this.rules.firstYear || year > this.rules.lastYear) return undefined;
    const session = this.year(year).byDate.get(date);
    return session && ts >= session.open && ts < session.close ? session : undefined;
  }

  /** Weekday closures of a year (within the calendar's years). */
  holidays(year: number): string[] {
    this.check(`${year}-01-01`);
    return [...this.year(year).holidays];
  }

  earlyCloses(year: number): string[] {
    this.check(`${year}-01-01`);
    return this.year(year)
      .sessions.filter((s) => s.earlyClose)
      .map((s) => s.date);
  }

  /** Number of sessions in a calendar year. */
  sessionCount(year: number): number {
    this.check(`${year}-01-01`);
    return this.year(year).sessions.length;
  }
}

/** The New York Stock Exchange, from 1990 (see NYSE_RULES). */
export const NYSE = new TradingCalendar(NYSE_RULES);

/** Calendars by name, so that a kernel running in another thread can be told which one to use. */
export const CALENDARS: Readonly<Record<string, TradingCalendar>> = { [NYSE.name]: NYSE };

/** The calendar with this name (see CALENDARS); a RangeError names the known ones otherwise. */
export function calendarByName(name: string): TradingCalendar {
  const calendar = CALENDARS[name];
  if (!calendar) throw new RangeError(`unknown calendar ${JSON.stringify(name)}; known: ${Object.keys(CALENDARS).join(', ')}`);
  return calendar;
}

/** True when `date` is a YYYY-MM-DD session of the NYSE calendar (see NYSE.range). */
export function isNyseSession(date: string): boolean {
  try {
    return NYSE.isSession(date);
  } catch {
    return false;
  }
}

export const tradingDateSchema = calendarDateSchema.refine(
  isNyseSession,
  `must be an NYSE trading session (${NYSE.range.first} … ${NYSE.range.last})`,
);

/**
 * An NYSE session no later than today in New York: the date of a job that moves state forward
 * to it (a sync, the end-of-day pipeline), where a future date would block every real one.
 */
export const pastTradingDateSchema = tradingDateSchema.refine(
  (date) => date <= localDate(Date.now(), NYSE.timeZone),
  'must not be after today in New York',
);
