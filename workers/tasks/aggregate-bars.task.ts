import { aggregateBars as aggregate, type AggregateOptions, type AggregateResult } from '../../src/domain/aggregate.js';
import { barBuffers, type BarColumns } from '../../src/domain/bars.js';
import { calendarByName } from '../../src/domain/calendar.js';
import { transferOut } from '../transfer.js';

export interface AggregateBarsInput {
  /** One series sorted by ts (transfer its buffers in). */
  bars: BarColumns;
  /** As for the domain kernel, with the calendar named (default 'XNYS') since objects do not cross threads. */
  options: Omit<AggregateOptions, 'calendar'> & { calendar?: string };
}

/**
 * The aggregation kernel as a pool task: one series to every target timeframe (see
 * src/domain/aggregate.ts). The output columns are transferred back, not copied.
 */
export function aggregateBars({ bars, options }: AggregateBarsInput): AggregateResult {
  const result = aggregate(bars, { ...options, calendar: calendarByName(options.calendar ?? 'XNYS') });
  return transferOut(
    result,
    Object.values(result.bars).flatMap((series) => barBuffers(series)),
  );
}
