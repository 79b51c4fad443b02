import type { Timeframe } from './timeframes.js';

/** Where a stored bar came from. */
export type BarSource = 'provider' | 'aggregate' | 'fill' | 'scenario' | 'continuous';

/**
 * Bars of one series in columnar form, sorted by ts (epoch ms, the bar's open instant).
 * `vwap` and `tradeCount` hold NaN where the value is unknown.
 */
export interface BarColumns {
  ts: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
  vwap: Float64Array;
  tradeCount: Float64Array;
}

export const BAR_COLUMN_NAMES = ['ts', 'open', 'high', 'low', 'close', 'volume', 'vwap', 'tradeCount'] as const;

export function allocateBars(length: number): BarColumns {
  return {
    ts: new Float64Array(length),
    open: new Float64Array(length),
    high: new Float64Array(length),
    low: new Float64Array(length),
    close: new Float64Array(length),
    volume: new Float64Array(length),
    vwap: new Float64Array(length),
    tradeCount: new Float64Array(length),
  };
}

/**
 * Columns on SharedArrayBuffers: every kernel thread reads them in place (a task input holding
 * them is not copied), so one long series can be aggregated by several threads at once.
 */
export function allocateSharedBars(length: number): BarColumns {
  const column = () => new Float64Array(new SharedArrayBuffer(length * Float64Array.BYTES_PER_ELEMENT));
  return {
    ts: column(),
    open: column(),
    high: column(),
    low: column(),
    close: column(),
    volume: column(),
    vwap: column(),
    tradeCount: column(),
  };
}

/** Whether every column lies on a SharedArrayBuffer (see allocateSharedBars). */
export function isSharedBars(bars: BarColumns): boolean {
  return BAR_COLUMN_NAMES.every((name) => bars[name].buffer instanceof SharedArrayBuffer);
}

/** Rows [start, end) as views on the same buffers (nothing copied). */
export function viewBars(bars: BarColumns, start: number, end: number): BarColumns {
  return {
    ts: bars.ts.subarray(start, end),
    open: bars.open.subarray(start, end),
    high: bars.high.subarray(start, end),
    low: bars.low.subarray(start, end),
    close: bars.close.subarray(start, end),
    volume: bars.volume.subarray(start, end),
    vwap: bars.vwap.subarray(start, end),
    tradeCount: bars.tradeCount.subarray(start, end),
  };
}

/** A bar as the database returns it: unknown vwap and trade count are null. */
export interface BarRow {
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  vwap: number | null;
  trade_count: number | null;
}

/** Rows in ts order, in columns; `tsOf` gives a row's open instant in epoch ms. */
export function barsFromRows<Row extends BarRow>(rows: readonly Row[], tsOf: (row: Row) => number): BarColumns {
  const bars = allocateBars(rows.length);
  rows.forEach((row, i) => {
    bars.ts[i] = tsOf(row);
    bars.open[i] = row.open;
    bars.high[i] = row.high;
    bars.low[i] = row.low;
    bars.close[i] = row.close;
    bars.volume[i] = row.volume;
    bars.vwap[i] = row.vwap ?? NaN;
    bars.tradeCount[i] = row.trade_count ?? NaN;
  });
  return bars;
}

/** A copy of rows [start, end) that owns its buffers (safe to transfer). */
export function sliceBars(bars: BarColumns, start: number, end: number): BarColumns {
  return {
    ts: bars.ts.slice(start, end),
    open: bars.open.slice(start, end),
    high: bars.high.slice(start, end),
    low: bars.low.slice(start, end),
    close: bars.close.slice(start, end),
    volume: bars.volume.slice(start, end),
    vwap: bars.vwap.slice(start, end),
    tradeCount: bars.tradeCount.slice(start, end),
  };
}

/** The rows whose `keep` flag is set, as new columns. */
export function keptBars(bars: BarColumns, keep: Uint8Array): BarColumns {
  let count = 0;
  for (let i = 0; i < keep.length; i++) count += keep[i];
  const out = allocateBars(count);
  for (let i = 0, j = 0; i < bars.ts.length; i++) {
    if (!keep[i]) continue;
    for (const name of BAR_COLUMN_NAMES) out[name][j] = bars[name][i];
    j++;
  }
  return out;
}

/** The ArrayBuffers behind the columns, for a piscina transferList. */
export function barBuffers(bars: BarColumns): ArrayBuffer[] {
  return BAR_COLUMN_NAMES.map((name) => bars[name].buffer as ArrayBuffer);
}

/** Identifies a stored series: the rows of `bars` sharing symbol, timeframe and variant. */
export interface SeriesKey {
  symbol: string;
  timeframe: Timeframe;
  /**
   * '' for bars stored as they came (imported, generated, spliced); for aggregates, the
   * session mode and alignment they were built with ('regular', 'extended/natural', …).
   */
  variant: string;
}

/** Column order of the COPY payloads produced by encodeCopyRows. */
export const BAR_COPY_COLUMNS = [
  'symbol',
  'timeframe',
  'variant',
  'ts',
  'open',
  'high',
  'low',
  'close',
  'volume',
  'vwap',
  'trade_count',
  'source',
] as const;

/** Escapes a value for PostgreSQL's COPY text format. */
export function copyText(value: string): string {
  return /[\\\t\n\r]/.test(value)
    ? value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r')
    : value;
}

const optional = (value: number) => (Number.isNaN(value) ? '\\N' : String(value));

const DAY_MS = 86_400_000;
const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const dayPrefixes = new Map<number, string>();

/**
 * `new Date(ms).toISOString()` for the encoders' hot loop: the date part is cached per day and
 * the time built from integers, since bars of a batch share a few days.
 */
export function isoInstant(ms: number): string {
  const day = Math.floor(ms / DAY_MS);
  // Years 0000–9999 only; toISOString writes others with a sign and six digits.
  if (!Number.isInteger(ms) || day < -719_162 || day > 2_932_896) return new Date(ms).toISOString();
  let prefix = dayPrefixes.get(day);
  if (prefix === undefined) {
    if (dayPrefixes.size >= 100_000) dayPrefixes.clear();
    prefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
    dayPrefixes.set(day, prefix);
  }
  const rest = ms - day * DAY_MS;
  const seconds = Math.floor(rest / 1000);
  const millis = rest - seconds * 1000;
  return `${prefix}${TWO_DIGITS[Math.floor(seconds / 3600)]}:${TWO_DIGITS[Math.floor(seconds / 60) % 60]}:${TWO_DIGITS[seconds % 60]}.${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`;
}

/**
 * Encodes rows [start, end) of a series as COPY text lines in BAR_COPY_COLUMNS order. Pure
 * string building, so it runs in the thread pool and the event loop only streams bytes.
 */
export function encodeCopyRows(key: SeriesKey, source: BarSource, bars: BarColumns, start = 0, end = bars.ts.length): string {
  const prefix = `${copyText(key.symbol)}\t${key.timeframe}\t${copyText(key.variant)}\t`;
  const suffix = `\t${source}\n`;
  let out = '';
  for (let i = start; i < end; i++) {
    out +=
      prefix +
      isoInstant(bars.ts[i]) +
      '\t' +
      bars.open[i] +
      '\t' +
      bars.high[i] +
      '\t' +
      bars.low[i] +
      '\t' +
      bars.close[i] +
      '\t' +
      bars.volume[i] +
      '\t' +
      optional(bars.vwap[i]) +
      '\t' +
      optional(bars.tradeCount[i]) +
      suffix;
  }
  return out;
}

/** Checks the OHLCV invariants of one bar; returns the reason it is invalid, if it is. */
export function barProblem(open: number, high: number, low: number, close: number, volume: number): string | undefined {
  if (!Number.isFinite(open)) return 'open is not a finite number';
  if (!Number.isFinite(high)) return 'high is not a finite number';
  if (!Number.isFinite(low)) return 'low is not a finite number';
  if (!Number.isFinite(close)) return 'close is not a finite number';
  if (!Number.isFinite(volume)) return 'volume is not a finite number';
  if (high < low) return `high ${high} is below low ${low}`;
  if (high < Math.max(open, close)) return `high ${high} is below max(open, close) ${Math.max(open, close)}`;
  if (low > Math.min(open, close)) return `low ${low} is above min(open, close) ${Math.min(open, close)}`;
  if (volume < 0) return `volume ${volume} is negative`;
  return undefined;
}
