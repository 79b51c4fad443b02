import type { BarColumns, BarSource, SeriesKey } from './columns.js';

/** 2000-01-01T00:00:00Z, PostgreSQL's timestamp epoch, in Unix ms. */
export const POSTGRES_EPOCH_MS = 946_684_800_000;

/** "PGCOPY\n\xff\r\n\0": the start of every binary COPY stream. */
export const BINARY_COPY_SIGNATURE = [0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00] as const;

const FIELDS = 12;
const utf8 = new TextEncoder();

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

  /** Appends rows [start, end) of a series. */
  add(key: SeriesKey, source: BarSource, bars: BarColumns, start = 0, end = bars.ts.length): void {
    const symbol = utf8.encode(key.symbol);
    const timeframe = utf8.encode(key.timeframe);
    const variant = utf8.encode(key.variant);
    const origin = utf8.encode(source);
    const rowSize = 2 + 16 + symbol.length + timeframe.length + variant.length + origin.length + 12 + 6 * 12 + 8;
    this.reserve(rowSize * (end - start));
    const { ts, open, high, low, close, volume, vwap, tradeCount } = bars;
    for (let i = start; i < end; i++) {
      this.view.setInt16(this.length, FIELDS);
      this.length += 2;
      this.text(symbol);
      this.text(timeframe);
      this.text(variant);
      this.view.setInt32(this.length, 8);
      this.view.setBigInt64(this.length + 4, BigInt(Math.round((ts[i] - POSTGRES_EPOCH_MS) * 1000)));
      this.length += 12;
      this.float(open[i]);
      this.float(high[i]);
      this.float(low[i]);
      this.float(close[i]);
      this.float(volume[i]);
      this.float(vwap[i]);
      if (Number.isNaN(tradeCount[i])) {
        this.view.setInt32(this.length, -1);
        this.length += 4;
      } else {
        this.view.setInt32(this.length, 4);
        this.view.setInt32(this.length + 4, tradeCount[i]);
        this.length += 8;
      }
      this.text(origin);
      this.rows++;
    }
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
