import { allocateBars, type BarColumns } from '../bars/columns.js';
import type { Adjustment } from './contract-codes.js';
import type { RollSchedule, RollTrigger } from './roll.js';

/**
 * How many sessions before the scheduled reference session the spread may be measured
 * instead, when one of the two contracts has no close on it. Further back the prices say
 * too little about the spread at the roll, and the roll is left unadjusted (and reported).
 */
export const MAX_REFERENCE_LOOKBACK = 5;

/** A roll as stored and served: both reference closes, the adjustment it implies, and any problem. */
export interface RollEvent {
  /** The first session held in the new contract. */
  rollDate: string;
  /**
   * The session whose closes measure the spread: the last session held in the old contract,
   * or an earlier one when data was missing (see `issue`); null when no session had both.
   */
  referenceDate: string | null;
  fromContract: string;
  toContract: string;
  fromClose: number | null;
  toClose: number | null;
  trigger: RollTrigger;
  /** toClose − fromClose, as measured (null when not measurable). */
  difference: number | null;
  /** toClose / fromClose, as measured (null when not measurable or a close is not positive). */
  ratio: number | null;
  /**
   * What the prices held in `fromContract` before this roll were adjusted by: added
   * (difference) or multiplied (ratio), counting every later roll; null for `none`.
   */
  cumulativeAdjustment: number | null;
  /** What was missing or moved, in words; null when the roll is clean. */
  issue: string | null;
}

/** Sessions on which the held contract had no bar: the series has no bar there. */
export interface HeldGap {
  contract: string;
  from: string;
  to: string;
  sessions: number;
}

export interface ContinuousInput {
  /** Session dates of the window, ascending. */
  sessionDates: readonly string[];
  /** Bar timestamp of each session (local midnight of its date). */
  sessionTs: Float64Array;
  /** Contract codes in chain order (the schedule's indexes). */
  contracts: readonly string[];
  /** Each contract's bars aligned to the sessions: NaN where it has none. */
  bars: readonly BarColumns[];
  schedule: RollSchedule;
  adjust: Adjustment;
}

export interface ContinuousOutput {
  /** The continuous series: one bar per session on which the held contract traded. */
  bars: BarColumns;
  /** The contract each output bar came from (chain index). */
  heldBy: Int32Array;
  rolls: RollEvent[];
  gaps: HeldGap[];
}

/** Raised when ratio adjustment meets a price that is zero or negative. */
export class NonPositivePriceError extends Error {
  constructor(contract: string, date: string, field: string, value: number) {
    super(
      `ratio adjustment needs positive prices, but ${contract} has ${field} ${value} on ${date}; use difference adjustment for this root`,
    );
    this.name = 'NonPositivePriceError';
  }
}

const PRICE_FIELDS = ['open', 'high', 'low', 'close'] as const;

interface Reference {
  session: number;
  from: number;
  to: number;
}

/** The latest session at or before `scheduled`, within the lookback, where both contracts closed. */
function findReference(fromBars: BarColumns, toBars: BarColumns, scheduled: number): Reference | undefined {
  for (let s = scheduled; s >= Math.max(0, scheduled - MAX_REFERENCE_LOOKBACK); s--) {
    if (!Number.isNaN(fromBars.close[s]) && !Number.isNaN(toBars.close[s]))
      return { session: s, from: fromBars.close[s], to: toBars.close[s] };
  }
  return undefined;
}

function describeProblems(
  input: ContinuousInput,
  from: number,
  to: number,
  rollSession: number,
  reference: Reference | undefined,
): string | null {
  const { sessionDates, contracts, bars } = input;
  const scheduled = rollSession - 1;
  const problems: string[] = [];
  const lacking = [from, to].filter((c) => Number.isNaN(bars[c].close[scheduled])).map((c) => contracts[c]);
  if (lacking.length > 0) {
    const where = `no bar on the reference session ${sessionDates[scheduled]}`;
    problems.push(
      reference
        ? `${lacking.join(' and ')} ${lacking.length > 1 ? 'have' : 'has'} ${where}; the spread is measured on ${sessionDates[reference.session]}, the latest session within ${MAX_REFERENCE_LOOKBACK} before it on which both closed`
        : `${lacking.join(' and ')} ${lacking.length > 1 ? 'have' : 'has'} ${where} and no session within ${MAX_REFERENCE_LOOKBACK} before it has closes of both; the roll is not adjusted`,
    );
  }
  if (Number.isNaN(bars[to].close[rollSession])) {
    problems.push(`${contracts[to]} has no bar on the roll date ${sessionDates[rollSession]}`);
  }
  if (to > from + 1) {
    problems.push(`passed over ${contracts.slice(from + 1, to).join(', ')}: their roll dates had gone by`);
  }
  return problems.length > 0 ? problems.join('; ') : null;
}

/**
 * Splices the held contracts' bars into one series and back-adjusts it (research §2.2):
 * each roll's spread is measured on the last session held in the old contract (Zipline's
 * convention), difference adds `to − from` and ratio multiplies by `to / from` to every bar
 * before the roll, so the newest segment stays raw and each session's return is the return
 * of the contract held that session. Volume is never adjusted. Missing data on a roll's
 * reference or roll date is reported on the roll, never passed over in silence.
 */
export function spliceContinuous(input: ContinuousInput): ContinuousOutput {
  const { sessionDates, sessionTs, contracts, bars, schedule, adjust } = input;
  const { held, rolls: decisions } = schedule;

  const references = decisions.map((decision) => findReference(bars[decision.from], bars[decision.to], decision.session - 1));
  const rolls: RollEvent[] = decisions.map((decision, i) => {
    const reference = references[i];
    if (adjust === 'ratio' && reference) {
      const date = sessionDates[reference.session];
      if (reference.from <= 0) throw new NonPositivePriceError(contracts[decision.from], date, 'close', reference.from);
      if (reference.to <= 0) throw new NonPositivePriceError(contracts[decision.to], date, 'close', reference.to);
    }
    return {
      rollDate: sessionDates[decision.session],
      referenceDate: reference ? sessionDates[reference.session] : null,
      fromContract: contracts[decision.from],
      toContract: contracts[decision.to],
      fromClose: reference?.from ?? null,
      toClose: reference?.to ?? null,
      trigger: decision.trigger,
      difference: reference ? reference.to - reference.from : null,
      ratio: reference && reference.from > 0 && reference.to > 0 ? reference.to / reference.from : null,
      cumulativeAdjustment: null,
      issue: describeProblems(input, decision.from, decision.to, decision.session, reference),
    };
  });

  // Segment k holds the bars before roll k (and after roll k − 1); the last segment is raw.
  const cumulative = new Float64Array(rolls.length + 1).fill(adjust === 'ratio' ? 1 : 0);
  for (let k = rolls.length - 1; k >= 0; k--) {
    const roll = rolls[k];
    cumulative[k] = adjust === 'ratio' ? cumulative[k + 1] * (roll.ratio ?? 1) : cumulative[k + 1] + (roll.difference ?? 0);
    if (adjust !== 'none') roll.cumulativeAdjustment = cumulative[k];
  }

  const count = held.reduce((n, contract, s) => (contract >= 0 && !Number.isNaN(bars[contract].close[s]) ? n + 1 : n), 0);
  const out = allocateBars(count);
  const heldBy = new Int32Array(count);
  const gaps: HeldGap[] = [];
  let segment = 0;
  let row = 0;
  for (let s = 0; s < held.length; s++) {
    while (segment < decisions.length && decisions[segment].session <= s) segment++;
    const contract = held[s];
    if (contract < 0) continue;
    const source = bars[contract];
    if (Number.isNaN(source.close[s])) {
      const last = gaps.at(-1);
      if (last && last.contract === contracts[contract] && last.to === sessionDates[s - 1]) {
        last.to = sessionDates[s];
        last.sessions++;
      } else gaps.push({ contract: contracts[contract], from: sessionDates[s], to: sessionDates[s], sessions: 1 });
      continue;
    }
    const factor = cumulative[segment];
    const adjusted = (value: number) => (adjust === 'ratio' ? value * factor : adjust === 'difference' ? value + factor : value);
    for (const field of PRICE_FIELDS) {
      const value = source[field][s];
      if (adjust === 'ratio' && !(value > 0)) throw new NonPositivePriceError(contracts[contract], sessionDates[s], field, value);
      out[field][row] = adjusted(value);
    }
    // An unknown vwap (NaN) stays unknown.
    out.vwap[row] = adjusted(source.vwap[s]);
    out.ts[row] = sessionTs[s];
    out.volume[row] = source.volume[s];
    out.tradeCount[row] = source.tradeCount[s];
    heldBy[row] = contract;
    row++;
  }
  return { bars: out, heldBy, rolls, gaps };
}
