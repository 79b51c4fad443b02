import { CsvFormatError, RejectedRows, readCsvRecords, type RejectedRow } from '../shared/csv.js';
import { barProblem, type BarColumns } from './columns.js';
import { symbolProblem } from '../shared/symbols.js';
import { isOnGrid, type Timeframe } from './timeframes.js';
import { fromWallClock, localMidnight, parseIsoDate } from '../shared/zone.js';
import { isInstantInRange, YEAR_RANGE_MESSAGE } from '../shared/dates.js';

export interface ParseBarsOptions {
  timeframe: Timeframe;
  /** Zone for timestamps without an offset and for the 1d/1w/1M grid. */
  timeZone: string;
  /** The series' symbol; when absent the file must carry a symbol column. */
  symbol?: string;
  /** How many rejected rows to list (all are counted). */
  maxRejectedListed?: number;
}

export interface ParsedSeries {
  symbol: string;
  bars: BarColumns;
}

export interface ParseBarsResult {
  series: ParsedSeries[];
  rowsRead: number;
  accepted: number;
  /** Rows repeating an earlier row exactly; stored once. */
  duplicates: number;
  rejected: RejectedRow[];
  rejectedCount: number;
  tsColumn: string;
  /** Header columns the importer does not use. */
  ignoredColumns: string[];
}

const TS_COLUMNS = [
  'ts',
  'timestamp_utc',
  'timestamp',
  'datetime_utc',
  'timestamp_et',
  'datetime',
  'datetime_et',
  'date',
  'time',
];
const SYMBOL_COLUMNS = ['symbol', 'ticker', 'name'];
const REQUIRED = ['open', 'high', 'low', 'close', 'volume'] as const;
const OPTIONAL = ['vwap', 'trade_count'] as const;

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const EPOCH_MS = /^\d{1,15}$/;
/** trade_count is a PostgreSQL integer. */
const MAX_TRADE_COUNT = 2 ** 31 - 1;
const WITH_OFFSET = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;
const NAIVE = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?$/;

type TsStyle = 'absolute' | 'local';

class RowError extends Error {}

function parseTs(raw: string, timeZone: string): { ts: number; style: TsStyle } {
  if (EPOCH_MS.test(raw)) return { ts: Number(raw), style: 'absolute' };
  let match = WITH_OFFSET.exec(raw);
  if (match) {
    try {
      parseIsoDate(match[1]);
    } catch {
      throw new RowError(`ts ${JSON.stringify(raw.slice(0, 40))} is not a calendar date`);
    }
    const ts = Date.parse(raw.replace(' ', 'T'));
    if (!Number.isFinite(ts)) throw new RowError(`ts ${JSON.stringify(raw.slice(0, 40))} is not a valid ISO-8601 instant`);
    return { ts, style: 'absolute' };
  }
  match = NAIVE.exec(raw);
  if (match) {
    try {
      const [year, month, day] = parseIsoDate(match[1]);
      if (match[2] === undefined) return { ts: localMidnight(match[1], timeZone), style: 'local' };
      const hour = Number(match[2]);
      const minute = Number(match[3]);
      const second = Number(match[4] ?? 0);
      if (hour > 23 || minute > 59 || second > 59) throw new RowError(`ts ${JSON.stringify(raw)} has an impossible time`);
      return { ts: fromWallClock(year, month, day, hour, minute, timeZone) + second * 1000, style: 'local' };
    } catch (error) {
      if (error instanceof RowError) throw error;
      throw new RowError(`ts ${JSON.stringify(raw.slice(0, 40))} is not a calendar date`);
    }
  }
  throw new RowError(
    `ts ${JSON.stringify(raw.slice(0, 40))} is neither ISO-8601 (with an offset, or a local date/time) nor epoch milliseconds`,
  );
}

function parseNumber(raw: string, field: string): number {
  if (!NUMBER.test(raw)) {
    throw new RowError(raw === '' ? `${field} is empty` : `${field} ${JSON.stringify(raw.slice(0, 40))} is not a number`);
  }
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new RowError(`${field} ${raw.slice(0, 40)} is not a finite number`);
  return value;
}

interface Accumulator {
  ts: number[];
  open: number[];
  high: number[];
  low: number[];
  close: number[];
  volume: number[];
  vwap: number[];
  tradeCount: number[];
  lines: number[];
}

const emptyAccumulator = (): Accumulator => ({
  ts: [],
  open: [],
  high: [],
  low: [],
  close: [],
  volume: [],
  vwap: [],
  tradeCount: [],
  lines: [],
});

function sameBar(acc: Accumulator, i: number, row: number[]): boolean {
  const equal = (a: number, b: number) => a === b || (Number.isNaN(a) && Number.isNaN(b));
  return (
    equal(acc.open[i], row[0]) &&
    equal(acc.high[i], row[1]) &&
    equal(acc.low[i], row[2]) &&
    equal(acc.close[i], row[3]) &&
    equal(acc.volume[i], row[4]) &&
    equal(acc.vwap[i], row[5]) &&
    equal(acc.tradeCount[i], row[6])
  );
}

/**
 * Parses and validates a bars CSV. Rows must ascend in time per symbol. Each bad row is
 * rejected with its line and reason; exact duplicates are kept once; a row repeating a
 * timestamp with other values is rejected. A problem with the file itself (no header, a
 * header without the needed columns, broken quoting) throws CsvFormatError.
 */
export function parseBarsCsv(text: string, options: ParseBarsOptions): ParseBarsResult {
  const maxListed = options.maxRejectedListed ?? 1000;
  const { header, records } = readCsvRecords(text);
  const column = (name: string) => header.indexOf(name);
  const tsColumn = TS_COLUMNS.find((name) => column(name) >= 0);
  const missing = REQUIRED.filter((name) => column(name) < 0);
  if (!tsColumn || missing.length > 0) {
    const needed = [...(tsColumn ? [] : ['ts']), ...missing].join(', ');
    throw new CsvFormatError(
      `the header must name ts (or timestamp/date), open, high, low, close, volume; missing ${needed}`,
      1,
    );
  }
  const duplicateNames = header.filter((name, i) => name !== '' && header.indexOf(name) !== i);
  if (duplicateNames.length > 0) throw new CsvFormatError(`the header repeats ${[...new Set(duplicateNames)].join(', ')}`, 1);

  const symbolColumn = options.symbol === undefined ? SYMBOL_COLUMNS.find((name) => column(name) >= 0) : undefined;
  if (options.symbol === undefined && symbolColumn === undefined) {
    throw new CsvFormatError('no symbol given and the header has no symbol column (symbol, ticker or name)', 1);
  }
  const tsIndex = column(tsColumn);
  const utcCheckIndex = tsColumn === 'timestamp_utc' ? column('timestamp_et') : -1;
  const symbolIndex = symbolColumn === undefined ? -1 : column(symbolColumn);
  const valueIndex = [...REQUIRED, ...OPTIONAL].map(column);
  const used = new Set([tsIndex, utcCheckIndex, symbolIndex, ...valueIndex]);
  const ignoredColumns = header.filter((name, i) => !used.has(i) && name !== '');

  const bySymbol = new Map<string, Accumulator>();
  const rejected = new RejectedRows(maxListed);
  let duplicates = 0;
  let firstStyle: { style: TsStyle; line: number } | undefined;

  for (let r = 1; r < records.length; r++) {
    const { record, info } = records[r];
    const line = info.lines;
    try {
      if (record.length !== header.length) {
        throw new RowError(`expected ${header.length} fields as in the header, found ${record.length}`);
      }
      const { ts, style } = parseTs(record[tsIndex], options.timeZone);
      if (!isInstantInRange(ts)) throw new RowError(`ts ${JSON.stringify(record[tsIndex].slice(0, 40))} ${YEAR_RANGE_MESSAGE}`);
      if (firstStyle === undefined) firstStyle = { style, line };
      else if (style !== firstStyle.style) {
        throw new RowError(
          `ts ${JSON.stringify(record[tsIndex])} is ${style === 'local' ? 'local time without an offset' : 'an absolute instant'} but line ${firstStyle.line} was not; mixing the two is ambiguous`,
        );
      }
      if (utcCheckIndex >= 0 && record[utcCheckIndex] !== '') {
        const other = parseTs(record[utcCheckIndex], options.timeZone).ts;
        if (other !== ts) throw new RowError('timestamp_et and timestamp_utc name different instants');
      }
      const gridProblem = isOnGrid(ts, options.timeframe, options.timeZone);
      if (gridProblem) throw new RowError(gridProblem);

      const values = REQUIRED.map((name, k) => parseNumber(record[valueIndex[k]], name));
      const vwapRaw = valueIndex[5] >= 0 ? record[valueIndex[5]] : '';
      const countRaw = valueIndex[6] >= 0 ? record[valueIndex[6]] : '';
      const vwap = vwapRaw === '' ? NaN : parseNumber(vwapRaw, 'vwap');
      const tradeCount = countRaw === '' ? NaN : parseNumber(countRaw, 'trade_count');
      if (!Number.isNaN(tradeCount) && (tradeCount < 0 || !Number.isInteger(tradeCount))) {
        throw new RowError(`trade_count ${countRaw} is not a whole number >= 0`);
      }
      if (tradeCount > MAX_TRADE_COUNT) throw new RowError(`trade_count ${countRaw} is above ${MAX_TRADE_COUNT}, the most a bar stores`);
      const problem = barProblem(values[0], values[1], values[2], values[3], values[4]);
      if (problem) throw new RowError(problem);

      const symbol = options.symbol ?? record[symbolIndex];
      const badSymbol = symbolProblem(symbol);
      if (badSymbol) throw new RowError(badSymbol);
      let acc = bySymbol.get(symbol);
      if (!acc) {
        acc = emptyAccumulator();
        bySymbol.set(symbol, acc);
      }
      const last = acc.ts.length - 1;
      const row = [...values, vwap, tradeCount];
      if (last >= 0 && ts <= acc.ts[last]) {
        if (ts < acc.ts[last]) {
          throw new RowError(
            `ts ${new Date(ts).toISOString()} is earlier than line ${acc.lines[last]} (${new Date(acc.ts[last]).toISOString()}); rows must ascend in time`,
          );
        }
        if (sameBar(acc, last, row)) {
          duplicates++;
          continue;
        }
        throw new RowError(`duplicate ts ${new Date(ts).toISOString()} with values different from line ${acc.lines[last]}`);
      }
      acc.ts.push(ts);
      acc.open.push(row[0]);
      acc.high.push(row[1]);
      acc.low.push(row[2]);
      acc.close.push(row[3]);
      acc.volume.push(row[4]);
      acc.vwap.push(vwap);
      acc.tradeCount.push(tradeCount);
      acc.lines.push(line);
    } catch (error) {
      if (!(error instanceof RowError)) throw error;
      rejected.add(line, error.message);
    }
  }

  const series = [...bySymbol].map(([symbol, acc]) => ({
    symbol,
    bars: {
      ts: Float64Array.from(acc.ts),
      open: Float64Array.from(acc.open),
      high: Float64Array.from(acc.high),
      low: Float64Array.from(acc.low),
      close: Float64Array.from(acc.close),
      volume: Float64Array.from(acc.volume),
      vwap: Float64Array.from(acc.vwap),
      tradeCount: Float64Array.from(acc.tradeCount),
    },
  }));
  return {
    series,
    rowsRead: records.length - 1,
    accepted: series.reduce((sum, s) => sum + s.bars.ts.length, 0),
    duplicates,
    rejected: rejected.rows,
    rejectedCount: rejected.count,
    tsColumn,
    ignoredColumns,
  };
}
