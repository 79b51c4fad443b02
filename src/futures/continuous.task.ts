import { encodeCopyRows, type BarSource } from '../bars/columns.js';
import { buildContinuous, type ContinuousBuildInput } from './continuous.js';
import { NonPositivePriceError, type HeldGap, type RollEvent } from './adjust.js';
import { transferOut } from '../kernels/transfer.js';

export interface ContinuousTaskInput extends ContinuousBuildInput {
  /** The symbol the series' bars are stored under. */
  series: string;
}

export type ContinuousTaskOutput =
  | {
      ok: true;
      /** COPY text of the series bars (transferred out). */
      copy: Uint8Array;
      bars: number;
      /** First and last bar ts (epoch ms); absent for an empty series. */
      from?: number;
      to?: number;
      /** Contracts held, in order, with the number of bars each gave. */
      held: Array<{ contract: string; bars: number }>;
      rolls: RollEvent[];
      gaps: HeldGap[];
      fallbackDates: string[];
      offSessionBars: Array<{ contract: string; ts: number }>;
    }
  | { ok: false; error: string };

const SOURCE: BarSource = 'continuous';

/** Finds the rolls, splices and adjusts a continuous series, and encodes its bars for COPY. */
export function continuous(input: ContinuousTaskInput): ContinuousTaskOutput {
  let built;
  try {
    built = buildContinuous(input);
  } catch (error) {
    if (error instanceof NonPositivePriceError) return { ok: false, error: error.message };
    throw error;
  }
  const { bars, heldBy } = built;
  const copy = new TextEncoder().encode(encodeCopyRows({ symbol: input.series, timeframe: '1d', variant: '' }, SOURCE, bars));
  const held: Array<{ contract: string; bars: number }> = [];
  for (const index of heldBy) {
    const contract = input.contracts[index].contract;
    if (held.at(-1)?.contract === contract) held.at(-1)!.bars++;
    else held.push({ contract, bars: 1 });
  }
  const count = bars.ts.length;
  return transferOut(
    {
      ok: true as const,
      copy,
      bars: count,
      ...(count > 0 ? { from: bars.ts[0], to: bars.ts[count - 1] } : {}),
      held,
      rolls: built.rolls,
      gaps: built.gaps,
      fallbackDates: built.fallbackDates,
      offSessionBars: built.offSessionBars,
    },
    [copy.buffer as ArrayBuffer],
  );
}
