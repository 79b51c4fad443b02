import { z } from 'zod';
import { defineContract, STANDARD_DEFAULTS } from '../queues/contract.js';
import { MAX_INLINE_CSV } from '../shared/import-source.js';
import { SYMBOL_LAYOUTS, type SymbolLayout } from './symbol-rows.js';

/** Most rows a `rows` payload may carry; larger sets go through `file`. */
export const MAX_INLINE_ROWS = 20_000;

/** What import-symbols did: the layout it read and what it inserted, updated or left alone. */
export interface ImportSymbolsResult {
  layout: SymbolLayout;
  rowsRead: number;
  inserted: number;
  updated: number;
  unchanged: number;
  /** Rows per symbol kind (stock, etf, …; `unspecified` when the row gave none). */
  kinds: Record<string, number>;
  ignoredColumns: string[];
}

/** import-symbols: symbol reference data (stocks, ETFs), all or nothing. */
export const importSymbolsContract = defineContract<ImportSymbolsResult>()({
  name: 'import-symbols',
  queue: 'ingest',
  description: 'Upsert symbol reference data (stocks, ETFs) from a CSV/JSON file, inline CSV or rows; all or nothing',
  schema: z
    .object({
      file: z
        .string()
        .min(1)
        .max(4096)
        .optional()
        .describe('path of a CSV or JSON file (optionally gzip) readable by the worker'),
      csv: z.string().min(1).max(MAX_INLINE_CSV).optional().describe('the CSV text itself'),
      rows: z
        .array(z.record(z.string(), z.unknown()))
        .min(1)
        .max(MAX_INLINE_ROWS)
        .optional()
        .describe('rows as objects with the tickforge field names'),
      layout: z
        .enum(['auto', ...SYMBOL_LAYOUTS])
        .default('auto')
        .describe('column layout: tickforge, sp500-constituents, us-etfs, or auto (recognised from the header)'),
    })
    .strict()
    .refine((p) => [p.file, p.csv, p.rows].filter((source) => source !== undefined).length === 1, {
      message: 'give exactly one of file, csv or rows',
      path: ['file'],
    }),
  defaults: STANDARD_DEFAULTS,
});
