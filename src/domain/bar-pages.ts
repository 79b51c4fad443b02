import { allocateBars, BAR_COLUMN_NAMES, type BarColumns } from './bars.js';

/**
 * Columns of a page of base bars read with COPY … TO STDOUT (text format), in this order: ts as
 * epoch milliseconds, open, high, low, close, volume, vwap, trade_count; `\N` is unknown.
 */
export const BAR_PAGE_COLUMNS = BAR_COLUMN_NAMES;

const TAB = 9;
const NEWLINE = 10;

/** Decodes a page of COPY text rows (see BAR_PAGE_COLUMNS) into columns. */
export function decodeBarPage(bytes: Uint8Array): BarColumns {
  let rows = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === NEWLINE) rows++;
  const bars = allocateBars(rows);
  const columns = BAR_PAGE_COLUMNS.map((name) => bars[name]);
  const text = new TextDecoder().decode(bytes);
  let position = 0;
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < columns.length; column++) {
      const last = column === columns.length - 1;
      const stop = text.indexOf(last ? '\n' : '\t', position);
      const field = text.slice(position, stop);
      columns[column][row] = field === '\\N' ? NaN : Number(field);
      position = stop + 1;
    }
  }
  return bars;
}

/** The ts of a page's last row, read without decoding the page (NaN for an empty page). */
export function lastTsOfPage(bytes: Uint8Array): number {
  if (bytes.length === 0) return NaN;
  let start = bytes.length - 1;
  while (start > 0 && bytes[start - 1] !== NEWLINE) start--;
  let end = start;
  while (end < bytes.length && bytes[end] !== TAB) end++;
  return Number(new TextDecoder().decode(bytes.subarray(start, end)));
}

/** One series made of `a` followed by `b` (both sorted, `a` entirely before `b`). */
export function concatBars(a: BarColumns, b: BarColumns): BarColumns {
  if (a.ts.length === 0) return b;
  if (b.ts.length === 0) return a;
  const out = allocateBars(a.ts.length + b.ts.length);
  for (const name of BAR_COLUMN_NAMES) {
    out[name].set(a[name]);
    out[name].set(b[name], a.ts.length);
  }
  return out;
}

/** Index of the first row with ts >= t (the length when there is none). */
export function lowerBound(ts: Float64Array, t: number): number {
  let low = 0;
  let high = ts.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (ts[mid] < t) low = mid + 1;
    else high = mid;
  }
  return low;
}
