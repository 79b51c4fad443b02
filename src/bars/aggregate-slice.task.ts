import { aggregateBars, type AggregateOptions, type AggregateResult } from './aggregate.js';
import { barBuffers, viewBars, type BarColumns } from './columns.js';
import { calendarByName } from '../shared/calendar.js';
import { transferOut } from '../kernels/transfer.js';

export interface AggregateSliceInput {
  /** The whole series, on SharedArrayBuffers: read in place, never copied. */
  bars: BarColumns;
  /** The rows [from, to) this thread aggregates; no bucket of any target straddles either end. */
  from: number;
  to: number;
  options: Omit<AggregateOptions, 'calendar'> & { calendar: string };
}

/**
 * One slice of a series split over the kernel pool (see aggregateOnPool): the kernel over its
 * rows, the bars handed back on their own buffers without a copy.
 */
export function aggregateSlice(input: AggregateSliceInput): AggregateResult {
  const { options } = input;
  const result = aggregateBars(viewBars(input.bars, input.from, input.to), {
    ...options,
    calendar: calendarByName(options.calendar),
  });
  return transferOut(
    result,
    Object.values(result.bars).flatMap((bars) => barBuffers(bars)),
  );
}
