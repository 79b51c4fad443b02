/**
 * Wall-clock conversions for IANA time zones, built on Intl and cached per zone and day so
 * that hot loops do not pay for Intl on every row. Offsets are looked up at the instant
 * itself, so DST transitions are honoured exactly.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();
const offsetCache = new Map<string, Map<number, number>>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, format);
  }
  return format;
}

/** Throws a RangeError naming the zone when it is not a known IANA zone. */
export function assertTimeZone(timeZone: string): void {
  formatter(timeZone);
}

const HOUR = 3_600_000;

/** What the formatter writes for years 1 to 9999: `M/D/YYYY, HH:MM:SS`. */
const FORMATTED = /^(\d+)\/(\d+)\/(\d+), (\d+):(\d+):(\d+)$/;

/**
 * The wall clock of `timeZone` at `date`, read as a UTC instant (epoch ms). One format() and a
 * match cost a third of formatToParts() and its lookups; other years take formatToParts().
 */
function wallClockAsUtc(date: Date, timeZone: string): number {
  const format = formatter(timeZone);
  const match = FORMATTED.exec(format.format(date));
  if (match) return Date.UTC(+match[3], +match[1] - 1, +match[2], +match[4], +match[5], +match[6]);
  const parts = format.formatToParts(date);
  const field = (type: string) => Number(parts.find((part) => part.type === type)?.value);
  return Date.UTC(field('year'), field('month') - 1, field('day'), field('hour'), field('minute'), field('second'));
}

/** UTC offset of `timeZone` at the instant `epochMs`, in milliseconds (New York in winter: −5 h). */
export function zoneOffsetMs(epochMs: number, timeZone: string): number {
  if (timeZone === 'UTC') return 0;
  let perZone = offsetCache.get(timeZone);
  if (!perZone) {
    perZone = new Map();
    offsetCache.set(timeZone, perZone);
  }
  // Every zone in use changes offset on whole hours (or half hours); cache per UTC hour.
  const hourKey = Math.floor(epochMs / HOUR);
  const cached = perZone.get(hourKey);
  if (cached !== undefined) return cached;
  const offset = wallClockAsUtc(new Date(hourKey * HOUR), timeZone) - hourKey * HOUR;
  perZone.set(hourKey, offset);
  return offset;
}

/** A date-time on the local wall clock of some zone. */
export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 0 = Sunday … 6 = Saturday */
  weekday: number;
}

export function toWallClock(epochMs: number, timeZone: string): WallClock {
  const local = new Date(epochMs + zoneOffsetMs(epochMs, timeZone));
  return {
    year: local.getUTCFullYear(),
    month: local.getUTCMonth() + 1,
    day: local.getUTCDate(),
    hour: local.getUTCHours(),
    minute: local.getUTCMinutes(),
    second: local.getUTCSeconds(),
    weekday: local.getUTCDay(),
  };
}

/**
 * The instant at which the wall clock of `timeZone` shows the given local time. A time that
 * does not exist (inside a spring-forward gap) resolves to the instant after the gap.
 */
export function fromWallClock(year: number, month: number, day: number, hour: number, minute: number, timeZone: string): number {
  const naive = Date.UTC(year, month - 1, day, hour, minute);
  let guess = naive - zoneOffsetMs(naive, timeZone);
  const second = naive - zoneOffsetMs(guess, timeZone);
  if (second !== guess) guess = Math.max(second, naive - zoneOffsetMs(second, timeZone));
  return guess;
}

/** Local midnight of a calendar date (`YYYY-MM-DD`) in the zone, as epoch ms. */
export function localMidnight(date: string, timeZone: string): number {
  const [year, month, day] = parseIsoDate(date);
  return fromWallClock(year, month, day, 0, 0, timeZone);
}

/** The calendar date (`YYYY-MM-DD`) of an instant on the zone's wall clock. */
export function localDate(epochMs: number, timeZone: string): string {
  const wall = toWallClock(epochMs, timeZone);
  return formatIsoDate(wall.year, wall.month, wall.day);
}

export function parseIsoDate(date: string): [number, number, number] {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!match) throw new RangeError(`not a YYYY-MM-DD date: ${JSON.stringify(date)}`);
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const check = new Date(Date.UTC(year, month - 1, day));
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) {
    throw new RangeError(`not a calendar date: ${date}`);
  }
  return [year, month, day];
}

export function formatIsoDate(year: number, month: number, day: number): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** Whether a string is a real YYYY-MM-DD calendar date (2020-02-30 is not). */
export function isCalendarDate(value: string): boolean {
  try {
    parseIsoDate(value);
    return true;
  } catch {
    return false;
  }
}
