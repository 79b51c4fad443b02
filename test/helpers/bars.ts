import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { BarColumns } from '../../src/bars/columns.js';
import { parseBarsCsv } from '../../src/bars/csv.js';
import type { Timeframe } from '../../src/bars/timeframes.js';
import { toWallClock } from '../../src/shared/zone.js';
import { dataFile } from './data.js';

export const NEW_YORK = 'America/New_York';

/** Every series of a shared data file (plain or gzip CSV) as columns, by symbol. */
export function loadSeries(relative: string, timeframe: Timeframe, symbol?: string): Map<string, BarColumns> {
  const bytes = readFileSync(dataFile(relative));
  const text = (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString('utf8');
  const parsed = parseBarsCsv(text, { timeframe, timeZone: NEW_YORK, symbol });
  return new Map(parsed.series.map((series) => [series.symbol, series.bars]));
}

/** The one series of a single-symbol data file. */
export function loadBars(relative: string, timeframe: Timeframe, symbol = 'X'): BarColumns {
  return loadSeries(relative, timeframe, symbol).get(symbol)!;
}

/** `YYYY-MM-DD HH:MM` on the New York wall clock. */
export function nyTime(ts: number): string {
  const wall = toWallClock(ts, NEW_YORK);
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${wall.year}-${pad(wall.month)}-${pad(wall.day)} ${pad(wall.hour)}:${pad(wall.minute)}`;
}

/** Row indexes of the bars whose ts satisfies the predicate. */
export function rowsWhere(bars: BarColumns, keep: (ts: number) => boolean): number[] {
  const rows: number[] = [];
  for (let i = 0; i < bars.ts.length; i++) if (keep(bars.ts[i])) rows.push(i);
  return rows;
}

/** open/high/low/close/volume of a set of rows computed the plain way: the oracle for a bucket. */
export function ohlcvOf(bars: BarColumns, rows: number[]) {
  return {
    open: bars.open[rows[0]],
    high: Math.max(...rows.map((i) => bars.high[i])),
    low: Math.min(...rows.map((i) => bars.low[i])),
    close: bars.close[rows[rows.length - 1]],
    volume: rows.reduce((sum, i) => sum + bars.volume[i], 0),
  };
}
