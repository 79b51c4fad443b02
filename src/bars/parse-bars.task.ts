import { isUtf8 } from 'node:buffer';
import { BAR_COPY_COLUMNS } from './columns.js';
import { BinaryCopyWriter } from './binary-copy.js';
import {
  finishBarsParse,
  parseBarsChunk,
  type BarsParseState,
  type BarsParseSummary,
  type ParseBarsOptions,
} from './csv.js';
import { CsvFormatError, type CsvFailure } from '../shared/csv.js';
import { transferOut } from '../kernels/transfer.js';

export interface ParseBarsInput {
  /** The next bytes of the file (transferred in): what the last chunk left unread, then new bytes. */
  bytes: Uint8Array;
  /** Whether these are the file's last bytes. */
  final: boolean;
  /** Where the parse stands (startBarsParse() for the first chunk). */
  state: BarsParseState;
  options: ParseBarsOptions;
}

/** One chunk's rows of a series: how many, and the first and last bar's ts (epoch ms). */
export interface ChunkSeries {
  symbol: string;
  rows: number;
  from: number;
  to: number;
}

export type ParseBarsOutput =
  | {
      ok: true;
      /** Binary COPY payload (BinaryCopyWriter) of the chunk's accepted rows, empty when none (transferred out). */
      copy: Uint8Array;
      columns: readonly string[];
      /** The series the chunk's accepted rows belong to. */
      series: ChunkSeries[];
      /** The bytes left unread (the start of a record the chunk ends inside), to put before the next bytes. */
      rest: Uint8Array;
      state: BarsParseState;
      /** The whole file's outcome, after the final chunk. */
      summary?: BarsParseSummary;
    }
  | CsvFailure;

const LF = 0x0a;
const CR = 0x0d;

/** Bytes up to the last line break: a multi-byte character never spans one, so they can be checked alone. */
function completeText(bytes: Uint8Array, final: boolean): Uint8Array {
  if (final) return bytes;
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] !== LF && bytes[end - 1] !== CR) end--;
  return bytes.subarray(0, end);
}

/**
 * Parses and checks the next chunk of a bars CSV and encodes its accepted rows for binary COPY
 * (the doubles' own bytes: nothing formatted here or parsed by PostgreSQL). Only bytes cross
 * the thread boundary, never a row object: the file streams through in chunks.
 */
export function parseBars({ bytes: input, final, state, options }: ParseBarsInput): ParseBarsOutput {
  const atStart = state.line === 0 && state.records === 0;
  const bytes = atStart && input[0] === 0xef && input[1] === 0xbb && input[2] === 0xbf ? input.subarray(3) : input;
  if (!isUtf8(completeText(bytes, final))) return { ok: false, error: 'the file is not valid UTF-8 text' };
  const writer = new BinaryCopyWriter();
  const chunk = new Map<string, ChunkSeries>();
  try {
    const consumed = parseBarsChunk(bytes, final, state, options, (symbol, bar) => {
      writer.addBar({ symbol, timeframe: options.timeframe, variant: '' }, 'provider', bar);
      const series = chunk.get(symbol);
      if (series) {
        series.rows++;
        series.to = bar[0];
      } else chunk.set(symbol, { symbol, rows: 1, from: bar[0], to: bar[0] });
    });
    const summary = final ? finishBarsParse(state, options) : undefined;
    const copy = writer.finish();
    const rest = bytes.slice(consumed);
    return transferOut(
      { ok: true as const, copy, columns: BAR_COPY_COLUMNS, series: [...chunk.values()], rest, state, summary },
      [copy.buffer as ArrayBuffer, rest.buffer as ArrayBuffer],
    );
  } catch (error) {
    if (error instanceof CsvFormatError) return { ok: false, error: error.message, line: error.line };
    throw error;
  }
}
