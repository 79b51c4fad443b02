import { z } from 'zod';
import { toWallClock } from '../shared/zone.js';
import { closestMatch, didYouMean } from '../shared/suggest.js';

/** Every timeframe tickforge stores, finest first. */
export const TIMEFRAMES = ['1m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d', '2d', '1w', '1M'] as const;
export type Timeframe = (typeof TIMEFRAMES)[number];

/** The ways people write a unit, each with the letter tickforge writes it with ('m' minute, 'M' month). */
const UNIT_SPELLINGS: Array<[RegExp, string]> = [
  [/^(m|min|mins|minutes?)$/i, 'm'],
  [/^(h|hr|hrs|hours?)$/i, 'h'],
  [/^(d|days?)$/i, 'd'],
  [/^(w|wk|wks|weeks?)$/i, 'w'],
  [/^(mo|mos|mon|mons|months?)$/i, 'M'],
];

/**
 * The timeframe someone who wrote `value` most likely meant: `1H`, `1hour` and `60m` mean 1h,
 * `1D` means 1d, `1mo` means 1M; else the one nearest by spelling, if any is near.
 */
export function suggestTimeframe(value: string): Timeframe | undefined {
  const [, digits, word] = /^(\d+)\s*([a-z]+)$/i.exec(value.trim()) ?? [];
  // A lone capital M is a month, as tickforge writes it; every other spelling is read case-blind.
  const unit = word === 'M' ? 'M' : UNIT_SPELLINGS.find(([pattern]) => word !== undefined && pattern.test(word))?.[1];
  if (unit !== undefined) {
    const count = Number(digits);
    const candidate = unit === 'm' && count >= 60 && count % 60 === 0 ? `${count / 60}h` : `${count}${unit}`;
    if ((TIMEFRAMES as readonly string[]).includes(candidate)) return candidate as Timeframe;
  }
  return closestMatch(value, TIMEFRAMES) as Timeframe | undefined;
}

export const timeframeSchema = z.enum(TIMEFRAMES, {
  error: (issue) =>
    `must be one of ${TIMEFRAMES.join(', ')}${typeof issue.input === 'string' ? didYouMean(suggestTimeframe(issue.input)) : ''}`,
});

const MINUTE = 60_000;

/** Length in minutes of an intraday timeframe; undefined for 1d and coarser. */
export const INTRADAY_MINUTES: Partial<Record<Timeframe, number>> = {
  '1m': 1,
  '5m': 5,
  '15m': 15,
  '30m': 30,
  '1h': 60,
  '2h': 120,
  '4h': 240,
  '6h': 360,
  '8h': 480,
  '12h': 720,
};

export function isIntraday(timeframe: Timeframe): boolean {
  return INTRADAY_MINUTES[timeframe] !== undefined;
}

/** Position in TIMEFRAMES: a smaller rank is finer. */
export function timeframeRank(timeframe: Timeframe): number {
  return TIMEFRAMES.indexOf(timeframe);
}

/** Timeframes strictly coarser than `source`. */
export function coarserThan(source: Timeframe): Timeframe[] {
  return TIMEFRAMES.slice(timeframeRank(source) + 1);
}

/**
 * Whether a bar start lies on the timeframe's grid in the given zone. Sub-hour bars sit on
 * multiples of their length; hour-and-longer intraday bars on a half hour (session-aligned
 * bars start at 09:30, natural ones on the hour); 1d and 2d at local midnight; 1w at
 * Monday's midnight; 1M at midnight on the 1st.
 */
export function isOnGrid(ts: number, timeframe: Timeframe, timeZone: string): string | undefined {
  const minutes = INTRADAY_MINUTES[timeframe];
  if (minutes !== undefined) {
    const step = Math.min(minutes, 30) * MINUTE;
    return ts % step === 0 ? undefined : `ts is not on the ${timeframe} grid (a multiple of ${step / MINUTE} min)`;
  }
  const wall = toWallClock(ts, timeZone);
  if (wall.hour !== 0 || wall.minute !== 0 || wall.second !== 0 || ts % 1000 !== 0) {
    return `ts of a ${timeframe} bar must be local midnight in ${timeZone}`;
  }
  if (timeframe === '1w' && wall.weekday !== 1) return `ts of a 1w bar must be a Monday in ${timeZone}`;
  if (timeframe === '1M' && wall.day !== 1) return `ts of a 1M bar must be the 1st of a month in ${timeZone}`;
  return undefined;
}
