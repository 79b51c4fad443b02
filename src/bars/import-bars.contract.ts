import { z } from 'zod';
import { defineContract, STANDARD_DEFAULTS } from '../queues/contract.js';
import type { RejectedRow } from '../shared/csv.js';
import { importPayloadSchema } from '../shared/import-source.js';
import { symbolSchema } from '../shared/symbols.js';
import { assertTimeZone } from '../shared/zone.js';
import { timeframeSchema, type Timeframe } from './timeframes.js';

export const timeZoneSchema = z
  .string()
  .max(64)
  .refine((zone) => {
    try {
      assertTimeZone(zone);
      return true;
    } catch {
      return false;
    }
  }, 'must be an IANA time zone such as America/New_York');

/** What import-bars did: the series stored, row counts, and the rows it refused. */
export interface ImportBarsResult {
  timeframe: Timeframe;
  /** Each symbol's series: rows stored and the first and last bar's ts (ISO-8601 UTC). */
  symbols: Array<{ symbol: string; rows: number; from: string; to: string }>;
  rowsRead: number;
  accepted: number;
  /** Rows inserted, or overwritten because their values changed. */
  written: number;
  /** Rows already stored with exactly these values. */
  unchanged: number;
  duplicates: number;
  rejectedCount: number;
  rejected: RejectedRow[];
  ignoredColumns: string[];
}

/** import-bars: OHLCV bars from a CSV file or inline CSV into `bars` (variant ''). */
export const importBarsContract = defineContract<ImportBarsResult>()({
  name: 'import-bars',
  queue: 'ingest',
  description: 'Import OHLCV bars from a CSV file or inline CSV; bad rows are listed with their line and reason',
  schema: importPayloadSchema({
    symbol: symbolSchema.optional().describe('the series symbol; omit when the file has a symbol column'),
    timeframe: timeframeSchema,
    timeZone: timeZoneSchema.default('America/New_York').describe('zone of timestamps without an offset'),
  }),
  defaults: STANDARD_DEFAULTS,
});
