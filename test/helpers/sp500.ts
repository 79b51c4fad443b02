import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { SP500_CONSTITUENTS, SP500_DAILY, US_ETFS, dataFile } from './data.js';

/** The S&P 500 constituents file as records keyed by its own header. */
export function readConstituents(): Array<Record<string, string>> {
  return parse(readFileSync(dataFile(SP500_CONSTITUENTS)), { columns: true }) as Array<Record<string, string>>;
}

/** The US ETF file as records keyed by its own header. */
export function readEtfs(): Array<Record<string, string>> {
  return parse(readFileSync(dataFile(US_ETFS)), { columns: true }) as Array<Record<string, string>>;
}

let dailyLines: string[] | undefined;
function daily(): string[] {
  dailyLines ??= gunzipSync(readFileSync(dataFile(SP500_DAILY)))
    .toString('utf8')
    .split('\n');
  return dailyLines;
}

/** Close by symbol on one date, read straight from the S&P 500 daily file. */
export function closesOn(date: string): Map<string, number> {
  const closes = new Map<string, number>();
  for (const line of daily()) {
    if (!line.startsWith(date)) continue;
    const [, , , , close, , name] = line.split(',');
    if (close !== '') closes.set(name, Number(close));
  }
  return closes;
}

/**
 * Writes the rows of the S&P 500 daily file from `from` on as a gzip CSV with the original
 * header. The whole file takes ~25 s to import on a busy 2-core machine; the sync only reads
 * the last 20 sessions, so tests import this slice of the real file instead.
 */
export async function writeDailySlice(from: string, file: string): Promise<number> {
  const [header, ...rows] = daily();
  const kept = rows.filter((line) => line >= from);
  await writeFile(file, gzipSync([header, ...kept].join('\n')));
  return kept.length;
}

/**
 * The symbols of the N largest constituents by market cap recalculated as the sync does:
 * shares = file market cap / file price, times the close on `date`; ties by symbol.
 */
export function largestByMarketCap(count: number, date: string): string[] {
  const closes = closesOn(date);
  return readConstituents()
    .map((row) => {
      const shares = Number(row['Market Cap']) / Number(row.Price);
      const close = closes.get(row.Symbol);
      return { symbol: row.Symbol, cap: close === undefined ? Number(row['Market Cap']) : shares * close };
    })
    .sort((a, b) => b.cap - a.cap || (a.symbol < b.symbol ? -1 : 1))
    .slice(0, count)
    .map((row) => row.symbol)
    .sort();
}
