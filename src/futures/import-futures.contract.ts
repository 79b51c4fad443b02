import { z } from 'zod';
import { defineContract, STANDARD_DEFAULTS } from '../queues/contract.js';
import type { RejectedRow } from '../shared/csv.js';
import { importPayloadSchema } from '../shared/import-source.js';
import { NON_SESSION_POLICIES, type MergedRow, type NonSessionPolicy } from './csv.js';
import type { ParsedContractSummary } from './parse-futures.task.js';

/** Rows stored of one table: how many the file gave, how many were written and already there. */
export interface StoredRows {
  rows: number;
  written: number;
  unchanged: number;
}

/** A contract as import-futures reports it: its month as YYYY-MM, its first and last bar as ISO instants. */
export type ImportedContract = Omit<ParsedContractSummary, 'monthCode' | 'from' | 'to'> & {
  from: string | null;
  to: string | null;
};

/** What import-futures stored, what it merged or refused, and the judgement calls it made. */
export interface ImportFuturesResult {
  contracts: ImportedContract[];
  rowsRead: number;
  rowsUsed: number;
  duplicates: number;
  stored: { contracts: { written: number; unchanged: number }; bars: StoredRows; openInterest: StoredRows };
  nonSessionRows: { policy: NonSessionPolicy; count: number; rows: MergedRow[] };
  openInterestOnly: number;
  rejectedCount: number;
  rejected: RejectedRow[];
  ignoredColumns: string[];
  notes: string[];
}

/** import-futures: contracts with their daily bars and open interest, from a CSV by contract. */
export const importFuturesContract = defineContract<ImportFuturesResult>()({
  name: 'import-futures',
  queue: 'ingest',
  description: 'Import futures contracts with their daily bars and open interest from a CSV by contract',
  schema: importPayloadSchema({
    nonSessionRows: z
      .enum(NON_SESSION_POLICIES)
      .default('merge')
      .describe('rows dated on a day that is not a session: merge into the next session (its CME trade date) or reject'),
  }),
  defaults: STANDARD_DEFAULTS,
});
