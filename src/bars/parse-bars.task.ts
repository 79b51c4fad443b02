import { BAR_COPY_COLUMNS } from './columns.js';
import { BinaryCopyWriter } from './binary-copy.js';
import { parseBarsCsv, type ParseBarsOptions } from './csv.js';
import type { RejectedRow } from '../shared/csv.js';
import { parseCsvBytes, type CsvFailure } from '../shared/csv.js';
import { transferOut } from '../kernels/transfer.js';

export interface ParseBarsInput {
  /** The file's bytes (transferred in). */
  bytes: Uint8Array;
  options: ParseBarsOptions;
}

export interface ParsedSeriesSummary {
  symbol: string;
  rows: number;
  from: number;
  to: number;
}

export type ParseBarsOutput =
  | {
      ok: true;
      /** Binary COPY payload (BinaryCopyWriter) of every accepted row, empty when none (transferred out). */
      copy: Uint8Array;
      columns: readonly string[];
      series: ParsedSeriesSummary[];
      rowsRead: number;
      accepted: number;
      duplicates: number;
      rejected: RejectedRow[];
      rejectedCount: number;
      tsColumn: string;
      ignoredColumns: string[];
    }
  | CsvFailure;

/**
 * Decodes, parses and validates a bars CSV and encodes the accepted rows for binary COPY (the
 * doubles' own bytes: nothing formatted here or parsed by PostgreSQL).
 */
export function parseBars({ bytes, options }: ParseBarsInput): ParseBarsOutput {
  return parseCsvBytes(bytes, (text) => {
    const parsed = parseBarsCsv(text, options);
    const writer = new BinaryCopyWriter();
    for (const s of parsed.series)
      writer.add({ symbol: s.symbol, timeframe: options.timeframe, variant: '' }, 'provider', s.bars);
    const copy = writer.finish();
    return transferOut(
      {
        ok: true as const,
        copy,
        columns: BAR_COPY_COLUMNS,
        series: parsed.series.map((s) => ({
          symbol: s.symbol,
          rows: s.bars.ts.length,
          from: s.bars.ts[0],
          to: s.bars.ts[s.bars.ts.length - 1],
        })),
        rowsRead: parsed.rowsRead,
        accepted: parsed.accepted,
        duplicates: parsed.duplicates,
        rejected: parsed.rejected,
        rejectedCount: parsed.rejectedCount,
        tsColumn: parsed.tsColumn,
        ignoredColumns: parsed.ignoredColumns,
      },
      [copy.buffer as ArrayBuffer],
    );
  });
}
