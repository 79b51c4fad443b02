import { BAR_COLUMN_NAMES, type BarColumns, type BarSource, type SeriesKey } from './columns.js';

/** 2000-01-01T00:00:00Z, PostgreSQL's timestamp epoch, in Unix ms. */
export const POSTGRES_EPOCH_MS = 946_684_800_000;

/** "PGCOPY\n\xff\r\n\0": the start of every binary COPY stream. */
export const BINARY_COPY_SIGNATURE = [0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00] as const;

const FIELDS = 12;
const utf8 = new TextEncoder();
const origins = new Map<BarSource, Uint8Array>();
const originBytes = (source: BarSource) => origins.get(source) ?? origins.set(source, utf8.encode(source)).get(source)!;

/**
 * Builds a binary COPY payload of bars in BAR_COPY_COLUMNS order (symbol, timeframe, variant,
 * ts, open, high, low, close, volume, vwap, trade_count, source): doubles go over as their 8
 * bytes, so nothing is formatted here or parsed by PostgreSQL, and values arrive exactly.
 * NaN vwap and trade_count are written as NULL.
 */
export class BinaryCopyWriter {
  private bytes = new Uint8Array(1 << 16);
  private view = new DataView(this.bytes.buffer);
  private length = 0;
  private readonly keys = new Map<string, Uint8Array>();
  /** Rows added so far. */
  rows = 0;

  constructor() {
    this.bytes.set(BINARY_COPY_SIGNATURE);
    // Flags (no OIDs) and header-extension length, both zero.
    this.length = BINARY_COPY_SIGNATURE.length + 8;
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + extra) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }

  private text(encoded: Uint8Array): void {
    this.view.setInt32(this.length, encoded.length);
    this.bytes.set(encoded, this.length + 4);
    this.length += 4 + encoded.length;
  }

  private float(value: number): void {
    if (Number.isNaN(value)) {
      this.view.setInt32(this.length, -1);
      this.length += 4;
      return;
    }
    this.view.setInt32(this.length, 8);
    this.view.setFloat64(this.length + 4, value);
    this.length += 12;
  }

  /** The bytes every row of a series starts with: field count, symbol, timeframe, variant. */
  private keyBytes(key: SeriesKey): Uint8Array {
    const id = `${key.symbol}\t${key.timeframe}\t${key.variant}`;
    let bytes = this.keys.get(id);
    if (!bytes) {
      const parts = [key.symbol, key.timeframe, key.variant].map((part) => utf8.encode(part));
      bytes = new Uint8Array(2 + parts.reduce((sum, part) => sum + 4 + part.length, 0));
      const view = new DataView(bytes.buffer);
      view.setInt16(0, FIELDS);
      let at = 2;
      for (const part of parts) {
        view.setInt32(at, part.length);
        bytes.set(part, at + 4);
        at += 4 + part.length;
      }
      if (this.keys.size >= 10_000) this.keys.clear();
      this.keys.set(id, bytes);
    }
    return bytes;
  }

  /** Writes one row; `bar` holds ts, open, high, low, close, volume, vwap, trade count (NaN unknown). */
  private row(keyBytes: Uint8Array, origin: Uint8Array, bar: ArrayLike<number>): void {
    this.reserve(keyBytes.length + 12 + 6 * 12 + 8 + 4 + origin.length);
    this.bytes.set(keyBytes, this.length);
    this.length += keyBytes.length;
    this.view.setInt32(this.length, 8);
    this.view.setBigInt64(this.length + 4, BigInt(Math.round((bar[0] - POSTGRES_EPOCH_MS) * 1000)));
    this.length += 12;
    for (let k = 1; k <= 6; k++) this.float(bar[k]);
    const tradeCount = bar[7];
    if (Number.isNaN(tradeCount)) {
      this.view.setInt32(this.length, -1);
      this.length += 4;
    } else {
      this.view.setInt32(this.length, 4);
      this.view.setInt32(this.length + 4, tradeCount);
      this.length += 8;
    }
    this.text(origin);
    this.rows++;
  }

  /** Appends rows [start, end) of a series. */
  add(key: SeriesKey, source: BarSource, bars: BarColumns, start = 0, end = bars.ts.length): void {
    const keyBytes = this.keyBytes(key);
    const origin = originBytes(source);
    const bar = new Float64Array(8);
    for (let i = start; i < end; i++) {
      BAR_COLUMN_NAMES.forEach((name, k) => (bar[k] = bars[name][i]));
      this.row(keyBytes, origin, bar);
    }
  }

  /** Appends one bar of a series: ts, open, high, low, close, volume, vwap, trade count (NaN unknown). */
  addBar(key: SeriesKey, source: BarSource, bar: readonly number[]): void {
    this.row(this.keyBytes(key), originBytes(source), bar);
  }

  /** The payload with its trailer, owning its buffer (transferable); empty when no row was added. */
  finish(): Uint8Array {
    if (this.rows === 0) return new Uint8Array(0);
    this.reserve(2);
    this.view.setInt16(this.length, -1);
    this.length += 2;
    return this.bytes.slice(0, this.length);
  }
}
