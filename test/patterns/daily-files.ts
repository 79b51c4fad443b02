/**
 * The shared daily files as one column set per symbol, for pattern tests and the patterns
 * benchmark. Rows with a blank price are left out, as an import rejects them.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { allocateBars, type BarColumns } from '../../src/bars/columns.js';
import { dataFile, QQQ_DAILY, SP500_DAILY, SPY_DAILY } from '../helpers/data.js';

/** One symbol's daily bars. */
export interface DailySeries {
  symbol: string;
  bars: BarColumns;
}

interface Row {
  ts: number;
  values: number[];
}

function toColumns(symbol: string, rows: Row[]): DailySeries {
  rows.sort((a, b) => a.ts - b.ts);
  const bars = allocateBars(rows.length);
  rows.forEach((row, i) => {
    bars.ts[i] = row.ts;
    [bars.open[i], bars.high[i], bars.low[i], bars.close[i], bars.volume[i]] = row.values;
    bars.vwap[i] = NaN;
    bars.tradeCount[i] = NaN;
  });
  return { symbol, bars };
}

/** Parses `date,open,high,low,close,volume[,symbol]` lines; `symbolOf` names a line's series. */
function parse(lines: string[], symbolOf: (fields: string[]) => string): DailySeries[] {
  const bySymbol = new Map<string, Row[]>();
  const days = new Map<string, number>();
  for (const line of lines.slice(1)) {
    const fields = line.trim().split(',');
    if (fields.length < 6 || fields.slice(1, 6).some((field) => field === '')) continue;
    const symbol = symbolOf(fields);
    let rows = bySymbol.get(symbol);
    if (!rows) bySymbol.set(symbol, (rows = []));
    const day = fields[0].slice(0, 10);
    let ts = days.get(day);
    if (ts === undefined) days.set(day, (ts = Date.parse(`${day}T00:00:00Z`)));
    rows.push({ ts, values: [Number(fields[1]), Number(fields[2]), Number(fields[3]), Number(fields[4]), Number(fields[5])] });
  }
  return [...bySymbol].sort(([a], [b]) => (a < b ? -1 : 1)).map(([symbol, rows]) => toColumns(symbol, rows));
}

let sp500: DailySeries[] | undefined;

/** The five-year S&P 500 daily file (505 symbols, ~619 k bars), one series per symbol. */
export function readSp500Daily(): DailySeries[] {
  sp500 ??= parse(
    gunzipSync(readFileSync(dataFile(SP500_DAILY)))
      .toString('utf8')
      .split('\n'),
    (fields) => fields[6],
  );
  return sp500;
}

/** SPY and QQQ daily bars, 1998/1999–2021. */
export function readEtfDaily(): DailySeries[] {
  return [
    ['SPY', SPY_DAILY],
    ['QQQ', QQQ_DAILY],
  ].flatMap(([symbol, file]) => parse(readFileSync(dataFile(file), 'utf8').split('\n'), () => symbol));
}
