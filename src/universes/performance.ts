import { formatIsoDate, parseIsoDate } from '../shared/zone.js';
import { AVG_VOLUME_SESSIONS } from './universes.js';

/** Sessions a year, for annualising daily volatility. */
export const TRADING_DAYS_PER_YEAR = 252;

/** The periods returns are given over. */
export const PERFORMANCE_PERIODS = ['1d', '1w', '1m', '3m', 'ytd', '1y'] as const;
export type PerformancePeriod = (typeof PERFORMANCE_PERIODS)[number];

/** A daily series, ascending by date (YYYY-MM-DD session dates). */
export interface DailySeries {
  dates: string[];
  closes: number[];
  /** Share volumes; absent for a theme's index. */
  volumes?: number[];
}

/** Performance of one series as of a date; a figure the history is too short for is null. */
export interface PerformanceFigures {
  /** Session date of the last close on or before the as-of date. */
  lastDate: string | null;
  lastClose: number | null;
  /** Simple returns (0.05 is 5 %) from the reference close of each period to the last close. */
  returns: Record<PerformancePeriod, number | null>;
  /** Sample standard deviation of daily log returns over the 1-year window × √252. */
  volatility: number | null;
  /** Deepest fall from a running peak over the 1-year window, as a fraction ≤ 0. */
  maxDrawdown: number | null;
  /** Mean volume of the last 20 sessions. */
  avgVolume: number | null;
}

/** `date` moved by whole days, months or years (a day past a month's end clamps to its last day). */
export function shiftDate(date: string, { days = 0, months = 0, years = 0 }): string {
  const [year, month, day] = parseIsoDate(date);
  const target = new Date(Date.UTC(year + years, month - 1 + months, 1));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  const shifted = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth(), Math.min(day, lastDay) + days));
  return formatIsoDate(shifted.getUTCFullYear(), shifted.getUTCMonth() + 1, shifted.getUTCDate());
}

/**
 * The date each period's reference close is taken on or before: 1d is the previous session
 * (handled apart), 1w seven calendar days back, 1m/3m/1y calendar months and years back, YTD the
 * last day of the previous year.
 */
export function referenceDates(lastDate: string): Record<Exclude<PerformancePeriod, '1d'>, string> {
  return {
    '1w': shiftDate(lastDate, { days: -7 }),
    '1m': shiftDate(lastDate, { months: -1 }),
    '3m': shiftDate(lastDate, { months: -3 }),
    ytd: `${Number(lastDate.slice(0, 4)) - 1}-12-31`,
    '1y': shiftDate(lastDate, { years: -1 }),
  };
}

/** Index of the last date on or before `date` (binary search), or -1. */
function lastAtOrBefore(dates: readonly string[], date: string, end = dates.length): number {
  let low = 0;
  let high = end - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (dates[middle] <= date) {
      found = middle;
      low = middle + 1;
    } else high = middle - 1;
  }
  return found;
}

const nullReturns = (): Record<PerformancePeriod, number | null> => ({
  '1d': null,
  '1w': null,
  '1m': null,
  '3m': null,
  ytd: null,
  '1y': null,
});

/**
 * Returns, volatility, drawdown and average volume of a series as of `asOf`. The 1-year window
 * runs from the 1-year reference close (the last on or before one year back; the first close
 * when the history is shorter) to the last close.
 */
export function seriesPerformance(series: DailySeries, asOf: string): PerformanceFigures {
  const last = lastAtOrBefore(series.dates, asOf);
  if (last < 0)
    return { lastDate: null, lastClose: null, returns: nullReturns(), volatility: null, maxDrawdown: null, avgVolume: null };
  const lastDate = series.dates[last];
  const lastClose = series.closes[last];
  const returns = nullReturns();
  if (last > 0) returns['1d'] = lastClose / series.closes[last - 1] - 1;
  const references = referenceDates(lastDate);
  for (const period of Object.keys(references) as Array<keyof typeof references>) {
    const reference = lastAtOrBefore(series.dates, references[period], last);
    if (reference >= 0) returns[period] = lastClose / series.closes[reference] - 1;
  }
  const windowStart = Math.max(0, lastAtOrBefore(series.dates, references['1y'], last));

  let volatility: number | null = null;
  const count = last - windowStart;
  if (count >= 2) {
    let sum = 0;
    for (let i = windowStart + 1; i <= last; i++) sum += Math.log(series.closes[i] / series.closes[i - 1]);
    const mean = sum / count;
    let squares = 0;
    for (let i = windowStart + 1; i <= last; i++) squares += (Math.log(series.closes[i] / series.closes[i - 1]) - mean) ** 2;
    volatility = Math.sqrt(squares / (count - 1)) * Math.sqrt(TRADING_DAYS_PER_YEAR);
  }

  let peak = series.closes[windowStart];
  let maxDrawdown = 0;
  for (let i = windowStart; i <= last; i++) {
    peak = Math.max(peak, series.closes[i]);
    maxDrawdown = Math.min(maxDrawdown, series.closes[i] / peak - 1);
  }

  let avgVolume: number | null = null;
  if (series.volumes) {
    const from = Math.max(0, last - AVG_VOLUME_SESSIONS + 1);
    let total = 0;
    for (let i = from; i <= last; i++) total += series.volumes[i];
    avgVolume = total / (last - from + 1);
  }
  return { lastDate, lastClose, returns, volatility, maxDrawdown, avgVolume };
}

/**
 * The equal-weighted index of several series, rebalanced daily: 1 on the first date any member
 * has a close, then on each later date multiplied by 1 + the mean of the members' simple returns
 * from their previous close to that date's (members without a close that date are left out).
 */
export function equalWeightIndex(members: readonly DailySeries[]): DailySeries {
  const byDate = new Map<string, number[]>();
  for (const member of members) {
    for (let i = 1; i < member.dates.length; i++) {
      const list = byDate.get(member.dates[i]) ?? [];
      list.push(member.closes[i] / member.closes[i - 1] - 1);
      byDate.set(member.dates[i], list);
    }
  }
  const firstDates = members.filter((member) => member.dates.length > 0).map((member) => member.dates[0]);
  if (firstDates.length === 0) return { dates: [], closes: [] };
  const start = firstDates.sort()[0];
  const dates = [start, ...[...byDate.keys()].filter((date) => date > start).sort()];
  const closes = [1];
  for (let i = 1; i < dates.length; i++) {
    const dayReturns = byDate.get(dates[i])!;
    const mean = dayReturns.reduce((sum, value) => sum + value, 0) / dayReturns.length;
    closes.push(closes[i - 1] * (1 + mean));
  }
  return { dates, closes };
}

/** One member's figures. */
export interface MemberPerformance extends PerformanceFigures {
  symbol: string;
}

/** A universe's performance: each member's, and the theme's as an equal-weighted index. */
export interface UniversePerformance {
  members: MemberPerformance[];
  /** The equal-weighted index's figures; avgVolume is the sum of the members' average volumes. */
  theme: PerformanceFigures & { membersWithBars: number };
}

/** How far back the bars are read: a year and a month before the as-of date covers every reference close. */
export const PERFORMANCE_HISTORY = { years: -1, months: -1 };

/**
 * Groups daily bars (by symbol, ascending dates) into series and computes every member's
 * figures and the theme's as of `asOf`. Members without bars get null figures and stay out of
 * the index.
 */
export function universePerformance(
  symbols: readonly string[],
  rows: ReadonlyArray<{ symbol: string; date: string; close: number; volume: number }>,
  asOf: string,
): UniversePerformance {
  const series = new Map<string, Required<DailySeries>>();
  for (const row of rows) {
    let entry = series.get(row.symbol);
    if (!entry) series.set(row.symbol, (entry = { dates: [], closes: [], volumes: [] }));
    entry.dates.push(row.date);
    entry.closes.push(row.close);
    entry.volumes.push(row.volume);
  }
  const members = symbols.map((symbol) => ({
    symbol,
    ...seriesPerformance(series.get(symbol) ?? { dates: [], closes: [], volumes: [] }, asOf),
  }));
  const withBars = symbols.map((symbol) => series.get(symbol)).filter((entry) => entry !== undefined);
  const index = seriesPerformance(equalWeightIndex(withBars), asOf);
  const volumes = members.map((member) => member.avgVolume).filter((volume) => volume !== null);
  return {
    members,
    theme: {
      ...index,
      avgVolume: volumes.length > 0 ? volumes.reduce((sum, volume) => sum + volume, 0) : null,
      membersWithBars: withBars.length,
    },
  };
}
