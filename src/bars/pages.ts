import { allocateBars, BAR_COLUMN_NAMES, sliceBars, type BarColumns } from './columns.js';
import { BINARY_COPY_SIGNATURE, POSTGRES_EPOCH_MS } from './binary-copy.js';

/**
 * A page of base bars is the output of `COPY (SELECT ts, open, high, low, close, volume, vwap,
 * trade_count …) TO STDOUT (FORMAT binary)`: exact doubles, no text to parse. ts arrives as
 * PostgreSQL's int8 microseconds since 2000-01-01, trade_count as int4, the rest as float8.
 */
export const BAR_PAGE_SELECT = ['ts', 'open', 'high', 'low', 'close', 'volume', 'vwap', 'trade_count'] as const;

/** Thrown when a page is not the binary COPY output decodeBarPage expects. */
export class BarPageError extends Error {
  constructor(message: string) {
    super(`bad bar page: ${message}`);
    this.name = 'BarPageError';
  }
}

/** Where the first row of a binary COPY page starts: after the signature, flags and header extension. */
function firstRow(view: DataView): number {
  return BINARY_COPY_SIGNATURE.length + 8 + view.getInt32(BINARY_COPY_SIGNATURE.length + 4);
}

/** Whether a page holds no row (a binary COPY of nothing is still a header and a trailer). */
export function isEmptyBarPage(bytes: Uint8Array): boolean {
  if (bytes.length < BINARY_COPY_SIGNATURE.length + 10) return true;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return view.getInt16(firstRow(view)) === -1;
}

/** Decodes a binary COPY page (see BAR_PAGE_SELECT) into columns; an empty page has no rows. */
export function decodeBarPage(bytes: Uint8Array): BarColumns {
  if (bytes.length === 0) return allocateBars(0);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 21 || BINARY_COPY_SIGNATURE.some((byte, i) => bytes[i] !== byte))
    throw new BarPageError('no binary COPY signature');
  let position = firstRow(view);
  // Rows hold at least 2 + 8 × 4 bytes; size the columns for the most there can be, then trim.
  const capacity = Math.floor((bytes.length - position) / 34);
  const bars = allocateBars(capacity);
  const { ts, open, high, low, close, volume, vwap, tradeCount } = bars;
  const doubles = [open, high, low, close, volume, vwap];
  let rows = 0;
  for (;;) {
    const fields = view.getInt16(position);
    position += 2;
    if (fields === -1) break;
    if (fields !== BAR_PAGE_SELECT.length) throw new BarPageError(`row ${rows} has ${fields} fields`);
    const tsLength = view.getInt32(position);
    if (tsLength !== 8) throw new BarPageError(`row ${rows} has no ts`);
    ts[rows] = Number(view.getBigInt64(position + 4)) / 1000 + POSTGRES_EPOCH_MS;
    position += 12;
    for (const column of doubles) {
      const length = view.getInt32(position);
      position += 4;
      if (length === -1) column[rows] = NaN;
      else {
        column[rows] = view.getFloat64(position);
        position += 8;
      }
    }
    const countLength = view.getInt32(position);
    position += 4;
    if (countLength === -1) tradeCount[rows] = NaN;
    else {
      tradeCount[rows] = view.getInt32(position);
      position += 4;
    }
    rows++;
  }
  return rows === capacity ? bars : sliceBars(bars, 0, rows);
}

/** One series made of the parts in order (each sorted, each entirely before the next). */
export function concatBars(...parts: BarColumns[]): BarColumns {
  const filled = parts.filter((part) => part.ts.length > 0);
  if (filled.length <= 1) return filled[0] ?? parts[0] ?? allocateBars(0);
  const out = allocateBars(filled.reduce((rows, part) => rows + part.ts.length, 0));
  for (const name of BAR_COLUMN_NAMES) {
    let at = 0;
    for (const part of filled) {
      out[name].set(part[name], at);
      at += part.ts.length;
    }
  }
  return out;
}

/** Index of the first row in [from, to) with ts >= t (`to` when there is none). */
export function lowerBound(ts: Float64Array, t: number, from = 0, to = ts.length): number {
  let low = from;
  let high = to;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (ts[mid] < t) low = mid + 1;
    else high = mid;
  }
  return low;
}
