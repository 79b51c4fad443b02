import { barBuffers, type BarColumns } from '../bars/columns.js';
import type { Adjustment, RollPolicy } from './contract-codes.js';
import { spliceContinuous, type HeldGap, type RollEvent } from './adjust.js';
import { findRolls } from './roll.js';

/** One contract of a root's chain with its stored daily bars and open interest. */
export interface ContractData {
  contract: string;
  /** See ChainContract.deadline: session index in the window. */
  deadline: number;
  /** Stored daily bars, ts = local midnight of the trade date. */
  bars: BarColumns;
  /** Open interest by trade date, as local-midnight timestamps and values. */
  openInterestTs: Float64Array;
  openInterest: Float64Array;
}

export interface ContinuousBuildInput {
  sessionDates: readonly string[];
  /** Local midnight of each session date, the ts daily bars carry. */
  sessionTs: Float64Array;
  /** Ordered by last trade date. */
  contracts: readonly ContractData[];
  roll: RollPolicy;
  adjust: Adjustment;
}

export interface ContinuousBuild {
  bars: BarColumns;
  /** Chain index of the contract each output bar came from. */
  heldBy: Int32Array;
  rolls: RollEvent[];
  gaps: HeldGap[];
  /** Open-interest policy: session dates on which volume decided because open interest was missing. */
  fallbackDates: string[];
  /** Stored bars whose ts is not a session of the window's calendar; they cannot be placed. */
  offSessionBars: Array<{ contract: string; ts: number }>;
}

/** Spreads values keyed by ts onto the sessions; NaN where a session has none. */
function alignColumn(
  ts: Float64Array,
  values: Float64Array,
  index: Map<number, number>,
  length: number,
  misses?: (ts: number) => void,
): Float64Array {
  const aligned = new Float64Array(length).fill(NaN);
  for (let i = 0; i < ts.length; i++) {
    const session = index.get(ts[i]);
    if (session === undefined) misses?.(ts[i]);
    else aligned[session] = values[i];
  }
  return aligned;
}

function alignBars(
  bars: BarColumns,
  index: Map<number, number>,
  sessionTs: Float64Array,
  misses: (ts: number) => void,
): BarColumns {
  const column = (values: Float64Array, report?: (ts: number) => void) =>
    alignColumn(bars.ts, values, index, sessionTs.length, report);
  return {
    ts: sessionTs,
    open: column(bars.open),
    high: column(bars.high),
    low: column(bars.low),
    close: column(bars.close, misses),
    volume: column(bars.volume),
    vwap: column(bars.vwap),
    tradeCount: column(bars.tradeCount),
  };
}

/**
 * Builds a continuous series from a root's contracts: places every stored bar and open
 * interest figure on its session, finds the rolls, and splices and adjusts the prices.
 */
export function buildContinuous(input: ContinuousBuildInput): ContinuousBuild {
  const { sessionDates, sessionTs, contracts } = input;
  const length = sessionDates.length;
  const index = new Map<number, number>();
  sessionTs.forEach((ts, i) => index.set(ts, i));
  const offSessionBars: ContinuousBuild['offSessionBars'] = [];

  const aligned = contracts.map((c) =>
    alignBars(c.bars, index, sessionTs, (ts) => offSessionBars.push({ contract: c.contract, ts })),
  );
  const chain = contracts.map((c, i) => ({
    contract: c.contract,
    deadline: c.deadline,
    volume: aligned[i].volume,
    openInterest: alignColumn(c.openInterestTs, c.openInterest, index, length),
  }));
  const schedule = findRolls(chain, length, input.roll);
  const spliced = spliceContinuous({
    sessionDates,
    sessionTs,
    contracts: contracts.map((c) => c.contract),
    bars: aligned,
    schedule,
    adjust: input.adjust,
  });
  return { ...spliced, fallbackDates: schedule.fallbackSessions.map((s) => sessionDates[s]), offSessionBars };
}

/** The buffers behind a build input, for a piscina transfer list. */
export function continuousInputBuffers(input: ContinuousBuildInput): ArrayBuffer[] {
  return [
    input.sessionTs.buffer as ArrayBuffer,
    ...input.contracts.flatMap((c) => [
      ...barBuffers(c.bars),
      c.openInterestTs.buffer as ArrayBuffer,
      c.openInterest.buffer as ArrayBuffer,
    ]),
  ];
}
