import { CsvFormatError, type RejectedRow } from '../shared/csv.js';
import { scanCsvRecords } from '../shared/csv-scan.js';
import { allocateBars, BAR_COLUMN_NAMES, barProblem, type BarColumns } from './columns.js';
import { symbolProblem } from '../shared/symbols.js';
import { isOnGrid, TIMEFRAMES, type Timeframe } from './timeframes.js';
import { fromWallClock, localMidnight, parseIsoDate, zoneOffsetMs } from '../shared/zone.js';
import { isInstantInRange, YEAR_RANGE_MESSAGE } from '../shared/dates.js';

export interface ParseBarsOptions {
  timeframe: Timeframe;
  /** Zone for timestamps without an offset and for the 1d/1w/1M grid. */
  timeZone: string;
  /** The series' symbol; when absent the file must carry a symbol column. */
  symbol?: string;
  /** How many rejected rows to list (all are counted). */
  maxRejectedListed?: number;
  /** Symbols that may trade at zero or below (futures spreads); every other price must be above 0. */
  nonPositiveAllowed?: readonly string[];
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
const PRICES = ['open', 'high', 'low', 'close'] as const;
const WITH_OFFSET = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;
const NAIVE = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?$/;

type TsStyle = 'absolute' | 'local';

class RowError extends Error {}

/** Calendar dates and local midnights already worked out: rows of a file share a few thousand days. */
const calendarDates = new Map<string, [number, number, number] | undefined>();
const midnights = new Map<string, Map<string, number>>();
const CACHED_DATES = 50_000;

function calendarDate(date: string): [number, number, number] | undefined {
  if (calendarDates.has(date)) return calendarDates.get(date);
  if (calendarDates.size >= CACHED_DATES) calendarDates.clear();
  let parts: [number, number, number] | undefined;
  try {
    parts = parseIsoDate(date);
  } catch {
    parts = undefined;
  }
  calendarDates.set(date, parts);
  return parts;
}

function midnightOf(date: string, timeZone: string): number {
  let perZone = midnights.get(timeZone);
  if (!perZone) midnights.set(timeZone, (perZone = new Map()));
  let ts = perZone.get(date);
  if (ts === undefined) {
    if (perZone.size >= CACHED_DATES) perZone.clear();
    ts = localMidnight(date, timeZone);
    perZone.set(date, ts);
  }
  return ts;
}

function parseTs(raw: string, timeZone: string): { ts: number; style: TsStyle } {
  if (EPOCH_MS.test(raw)) return { ts: Number(raw), style: 'absolute' };
  let match = WITH_OFFSET.exec(raw);
  if (match) {
    if (!calendarDate(match[1])) throw new RowError(`ts ${JSON.stringify(raw.slice(0, 40))} is not a calendar date`);
    const ts = Date.parse(raw.replace(' ', 'T'));
    if (!Number.isFinite(ts)) throw new RowError(`ts ${JSON.stringify(raw.slice(0, 40))} is not a valid ISO-8601 instant`);
    return { ts, style: 'absolute' };
  }
  match = NAIVE.exec(raw);
  if (match) {
    const date = calendarDate(match[1]);
    if (!date) throw new RowError(`ts ${JSON.stringify(raw.slice(0, 40))} is not a calendar date`);
    if (match[2] === undefined) return { ts: midnightOf(match[1], timeZone), style: 'local' };
    const [year, month, day] = date;
    const hour = Number(match[2]);
    const minute = Number(match[3]);
    const second = Number(match[4] ?? 0);
    if (hour > 23 || minute > 59 || second > 59) throw new RowError(`ts ${JSON.stringify(raw)} has an impossible time`);
    const ts = fromWallClock(year, month, day, hour, minute, timeZone);
    if (ts + zoneOffsetMs(ts, timeZone) !== Date.UTC(year, month - 1, day, hour, minute)) {
      // fromWallClock moves a time inside the spring-forward gap past it; storing that would
      // shift the row onto a later bar's time.
      throw new RowError(`ts ${JSON.stringify(raw)} does not exist in ${timeZone}: the clocks skip it at the daylight-saving change`);
    }
    return { ts: ts + second * 1000, style: 'local' };
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

/** Where the columns a bars CSV needs are, from its header row. */
interface BarsColumns {
  header: string[];
  tsColumn: string;
  tsIndex: number;
  utcCheckIndex: number;
  symbolIndex: number;
  valueIndex: number[];
  ignoredColumns: string[];
}

/** Reads the header row; a header without the needed columns throws CsvFormatError. */
function barsColumns(record: string[], options: ParseBarsOptions): BarsColumns {
  const header = record.map((name) => name.trim().toLowerCase());
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

  return { header, tsColumn, tsIndex, utcCheckIndex, symbolIndex, valueIndex, ignoredColumns };
}

/** Where a series stands after the rows read so far: its count, first and last bar, and that bar's line. */
export interface SeriesProgress {
  rows: number;
  from: number;
  /** The last accepted bar: ts, open, high, low, close, volume, vwap, trade count. */
  last: number[];
  lastLine: number;
}

/**
 * What a bars parse carries from one chunk of the file to the next: plain data, so it crosses
 * to the pool thread and back with each chunk.
 */
export interface BarsParseState {
  /** Lines of the file read so far. */
  line: number;
  records: number;
  duplicates: number;
  rejected: RejectedRow[];
  rejectedCount: number;
  columns?: BarsColumns;
  firstStyle?: { style: TsStyle; line: number };
  series: Map<string, SeriesProgress>;
  /** Readable timestamps, those off the timeframe's grid, and the timeframes every one of them fits. */
  stamps: number;
  offGrid: number;
  fitting: Timeframe[];
}

export function startBarsParse(): BarsParseState {
  return {
    line: 0,
    records: 0,
    duplicates: 0,
    rejected: [],
    rejectedCount: 0,
    series: new Map(),
    stamps: 0,
    offGrid: 0,
    // 2d's grid is 1d's (local midnight), so a file that fits it is named 1d.
    fitting: TIMEFRAMES.filter((timeframe) => timeframe !== '2d'),
  };
}

/** Receives each accepted bar: its symbol and values (ts, open, high, low, close, volume, vwap, trade count; NaN unknown). */
export type BarSink = (symbol: string, bar: readonly number[]) => void;

function sameBar(last: readonly number[], bar: readonly number[]): boolean {
  for (let k = 1; k < bar.length; k++) {
    if (last[k] !== bar[k] && !(Number.isNaN(last[k]) && Number.isNaN(bar[k]))) return false;
  }
  return true;
}

/**
 * The check of one data row: accepted rows go to the sink, exact repeats are counted, bad rows
 * rejected with their line and reason.
 */
function checkRow(
  record: string[],
  line: number,
  state: BarsParseState,
  options: ParseBarsOptions,
  nonPositiveAllowed: ReadonlySet<string>,
  sink: BarSink,
): void {
  const { header, tsIndex, utcCheckIndex, symbolIndex, valueIndex } = state.columns!;
  if (record.length !== header.length) {
    throw new RowError(`expected ${header.length} fields as in the header, found ${record.length}`);
  }
  const { ts, style } = parseTs(record[tsIndex], options.timeZone);
  if (!isInstantInRange(ts)) throw new RowError(`ts ${JSON.stringify(record[tsIndex].slice(0, 40))} ${YEAR_RANGE_MESSAGE}`);
  if (state.firstStyle === undefined) state.firstStyle = { style, line };
  else if (style !== state.firstStyle.style) {
    throw new RowError(
      `ts ${JSON.stringify(record[tsIndex])} is ${style === 'local' ? 'local time without an offset' : 'an absolute instant'} but line ${state.firstStyle.line} was not; mixing the two is ambiguous`,
    );
  }
  if (utcCheckIndex >= 0 && record[utcCheckIndex] !== '') {
    const other = parseTs(record[utcCheckIndex], options.timeZone).ts;
    if (other !== ts) throw new RowError('timestamp_et and timestamp_utc name different instants');
  }
  state.stamps++;
  const gridProblem = isOnGrid(ts, options.timeframe, options.timeZone);
  const fits = (timeframe: Timeframe) =>
    (timeframe === options.timeframe ? gridProblem : isOnGrid(ts, timeframe, options.timeZone)) === undefined;
  if (!state.fitting.every(fits)) state.fitting = state.fitting.filter(fits);
  if (gridProblem) {
    state.offGrid++;
    throw new RowError(gridProblem);
  }

  const values = [
    parseNumber(record[valueIndex[0]], 'open'),
    parseNumber(record[valueIndex[1]], 'high'),
    parseNumber(record[valueIndex[2]], 'low'),
    parseNumber(record[valueIndex[3]], 'close'),
    parseNumber(record[valueIndex[4]], 'volume'),
  ];
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
  if (!nonPositiveAllowed.has(symbol)) {
    for (let k = 0; k < PRICES.length; k++) {
      if (!(values[k] > 0)) throw new RowError(`${PRICES[k]} ${values[k]} is not above 0; only futures may trade at zero or below`);
    }
    if (vwap <= 0) throw new RowError(`vwap ${vwap} is not above 0; only futures may trade at zero or below`);
  }
  const bar = [ts, values[0], values[1], values[2], values[3], values[4], vwap, tradeCount];
  const series = state.series.get(symbol);
  if (series && ts <= series.last[0]) {
    const lastTs = new Date(series.last[0]).toISOString();
    if (ts < series.last[0]) {
      throw new RowError(
        `ts ${new Date(ts).toISOString()} is earlier than line ${series.lastLine} (${lastTs}); rows must ascend in time`,
      );
    }
    if (sameBar(series.last, bar)) {
      state.duplicates++;
      return;
    }
    throw new RowError(`duplicate ts ${lastTs} with values different from line ${series.lastLine}`);
  }
  if (series) {
    series.rows++;
    series.last = bar;
    series.lastLine = line;
  } else {
    state.series.set(symbol, { rows: 1, from: ts, last: bar, lastLine: line });
  }
  sink(symbol, bar);
}

/**
 * Parses and checks the next bytes of a bars CSV (UTF-8, the BOM removed), handing each
 * accepted bar to `sink` and moving `state` on. Rows must ascend in time per symbol. Each bad
 * row is rejected with its line and reason; exact duplicates are kept once; a row repeating a
 * timestamp with other values is rejected. Unless `final`, a record the bytes end inside is left
 * unread: returns where it starts, for the caller to hand back with the bytes that follow. A
 * problem with the file itself (no header, a header without the needed columns, broken
 * quoting) throws CsvFormatError.
 */
export function parseBarsChunk(
  bytes: Uint8Array,
  final: boolean,
  state: BarsParseState,
  options: ParseBarsOptions,
  sink: BarSink,
): number {
  const maxListed = options.maxRejectedListed ?? 1000;
  const nonPositiveAllowed = new Set(options.nonPositiveAllowed);
  const end = scanCsvRecords(bytes, state.line, final, (record, line) => {
    state.records++;
    if (!state.columns) {
      state.columns = barsColumns(record, options);
      return;
    }
    try {
      checkRow(record, line, state, options, nonPositiveAllowed, sink);
    } catch (error) {
      if (!(error instanceof RowError)) throw error;
      state.rejectedCount++;
      if (state.rejected.length < maxListed) state.rejected.push({ line, reason: error.message });
    }
  });
  state.line = end.line;
  return end.consumed;
}

/** How a whole file parsed, once its last bytes are read. */
export interface BarsParseSummary {
  series: Array<{ symbol: string; rows: number; from: number; to: number }>;
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

/**
 * Ends a parse: throws CsvFormatError for a file without a header, and for one whose rows
 * mostly miss the timeframe's grid but all fit a coarser one (a file of another timeframe).
 */
export function finishBarsParse(state: BarsParseState, options: ParseBarsOptions): BarsParseSummary {
  if (!state.columns) throw new CsvFormatError('the file is empty: a header row is required');
  // Timestamps that fit no grid at all are bad rows, listed one by one like any other.
  const fits = state.fitting.at(-1);
  if (state.offGrid > state.stamps / 2 && fits) {
    throw new CsvFormatError(
      `${state.offGrid} of ${state.stamps} rows are off the ${options.timeframe} grid, so this is not a ${options.timeframe} file: every timestamp fits ${fits}; import it with timeframe ${fits}`,
    );
  }
  const series = [...state.series].map(([symbol, s]) => ({ symbol, rows: s.rows, from: s.from, to: s.last[0] }));
  return {
    series,
    rowsRead: state.records - 1,
    accepted: series.reduce((sum, s) => sum + s.rows, 0),
    duplicates: state.duplicates,
    rejected: state.rejected,
    rejectedCount: state.rejectedCount,
    tsColumn: state.columns.tsColumn,
    ignoredColumns: state.columns.ignoredColumns,
  };
}

export interface ParsedSeries {
  symbol: string;
  bars: BarColumns;
}

export interface ParseBarsResult extends Omit<BarsParseSummary, 'series'> {
  series: ParsedSeries[];
}

/** Parses and checks a whole bars CSV held as text (see parseBarsChunk), collecting each series' bars as columns. */
export function parseBarsCsv(text: string, options: ParseBarsOptions): ParseBarsResult {
  const collected = new Map<string, number[][]>();
  const state = startBarsParse();
  const bytes = Buffer.from(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, 'utf8');
  parseBarsChunk(bytes, true, state, options, (symbol, bar) => {
    const rows = collected.get(symbol);
    if (rows) rows.push([...bar]);
    else collected.set(symbol, [[...bar]]);
  });
  const summary = finishBarsParse(state, options);
  const series = [...collected].map(([symbol, rows]) => {
    const bars = allocateBars(rows.length);
    rows.forEach((bar, i) => BAR_COLUMN_NAMES.forEach((name, k) => (bars[name][i] = bar[k])));
    return { symbol, bars };
  });
  return { ...summary, series };
}
