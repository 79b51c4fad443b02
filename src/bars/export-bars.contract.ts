import { z } from 'zod';
import { defineContract, STANDARD_DEFAULTS } from '../queues/contract.js';
import { NYSE } from '../shared/calendar.js';
import { ValidationError } from '../shared/errors.js';
import { symbolSchema } from '../shared/symbols.js';
import { barsQuerySchema } from './query.js';
import { resolveRange } from './ranges.js';

/** The file formats export-bars writes: an Arrow IPC file, or Parquet. */
export const EXPORT_FORMATS = ['arrow', 'parquet'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Most symbols one export file holds. */
export const MAX_EXPORT_SYMBOLS = 1_000;

const payloadSchema = barsQuerySchema
  .omit({ symbol: true })
  .extend({
    symbols: z
      .union([symbolSchema, z.array(symbolSchema).min(1).max(MAX_EXPORT_SYMBOLS)])
      .describe('one symbol or a list; the file holds them one after another, each in ts order'),
    format: z.enum(EXPORT_FORMATS).default('arrow').describe('arrow: an Arrow IPC file; parquet: a Parquet file'),
  })
  .strict()
  .superRefine((payload, context) => {
    try {
      resolveRange(payload, payload.session, NYSE);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      for (const issue of error.issues) context.addIssue({ code: 'custom', path: [issue.path], message: issue.message });
    }
  });

/** Rows of one symbol in the file, and which stored series they came from. */
export interface ExportedSymbol {
  symbol: string;
  rows: number;
  origin: string;
  variant: string;
}

/** What export-bars wrote: the file (under TICKFORGE_EXPORT_DIR), its rows and size. */
export interface ExportBarsResult {
  path: string;
  format: ExportFormat;
  rows: number;
  bytes: number;
  symbols: ExportedSymbol[];
}

/**
 * export-bars: the bars GET /api/bars answers for one or more symbols, written to an Arrow IPC
 * or Parquet file in the export directory for offline work (pandas, Polars, DuckDB).
 */
export const exportBarsContract = defineContract<ExportBarsResult>()({
  name: 'export-bars',
  queue: 'system',
  description: 'Write the bars of one or more symbols to an Arrow IPC or Parquet file in the export directory',
  schema: payloadSchema,
  defaults: STANDARD_DEFAULTS,
});
