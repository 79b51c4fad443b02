import { allocateBars } from '../../src/bars/columns.js';
import { NYSE } from '../../src/shared/calendar.js';
import type { ContractData } from '../../src/futures/continuous.js';
import { localMidnight } from '../../src/shared/zone.js';

/** One contract of a toy market: a close (or null: no bar) per session. */
export interface ToyContract {
  contract: string;
  deadline: number;
  closes: Array<number | null>;
  volumes?: Array<number | null>;
  openInterest?: Array<number | null>;
}

/** `count` consecutive NYSE sessions from `first`, with the ts daily bars carry. */
export function toySessions(first: string, count: number): { sessionDates: string[]; sessionTs: Float64Array } {
  const start = NYSE.session(first)!.index;
  const sessionDates = Array.from({ length: count }, (_, i) => NYSE.sessionAt(start + i)!.date);
  return { sessionDates, sessionTs: Float64Array.from(sessionDates.map((date) => localMidnight(date, 'America/New_York'))) };
}

/**
 * Stored-style bars for a toy contract: open = close − 0.5, high = close + 1, low = close − 1,
 * so every OHLC field can be checked after adjustment.
 */
export function toyContract(toy: ToyContract, sessionTs: Float64Array): ContractData {
  const sessions = toy.closes.flatMap((close, i) => (close === null ? [] : [i]));
  const bars = allocateBars(sessions.length);
  bars.vwap.fill(NaN);
  bars.tradeCount.fill(NaN);
  sessions.forEach((s, row) => {
    const close = toy.closes[s]!;
    bars.ts[row] = sessionTs[s];
    bars.open[row] = close - 0.5;
    bars.high[row] = close + 1;
    bars.low[row] = close - 1;
    bars.close[row] = close;
    bars.volume[row] = toy.volumes?.[s] ?? 1000;
  });
  const interest = (toy.openInterest ?? []).flatMap((value, s) => (value === null ? [] : [{ s, value }]));
  return {
    contract: toy.contract,
    deadline: toy.deadline,
    bars,
    openInterestTs: Float64Array.from(interest.map(({ s }) => sessionTs[s])),
    openInterest: Float64Array.from(interest.map(({ value }) => value)),
  };
}
