import { CsvFormatError, RejectedRows, readCsvRecords, type RejectedRow } from '../shared/csv.js';
import { allocateBars, barProblem, type BarColumns } from '../bars/columns.js';
import type { TradingCalendar } from '../shared/calendar.js';
import { ROOT_SPECS, parseContractCode, sessionOnOrBefore, type ContractCode } from './contract-codes.js';
import { localMidnight, parseIsoDate } from '../shared/zone.js';

/**
 * What happens to a row dated on a day that is not a session of the calendar (a Sunday
 * evening's Globex trading, a holiday's abbreviated session): `merge` folds it into the next
 * session — the CME trade date such trading belongs to; `reject` lists it as a bad row.
 */
export const NON_SESSION_POLICIES = ['merge', 'reject'] as const;
export type NonSessionPolicy = (typeof NON_SESSION_POLICIES)[number];

export interface ParseFuturesOptions {
  /** Trade dates are this calendar's sessions; bars are stamped at local midnight of each. */
  calendar: TradingCalendar;
  nonSessionRows: NonSessionPolicy;
  /** How many rejected and merged rows to list (all are counted). */
  maxListed?: number;
}

/** One contract of the file with its daily bars (one per trade date) and open interest. */
export interface ParsedContract extends ContractCode {
  /** First day of the delivery month, YYYY-MM-01. */
  contractMonth: string;
  lastTradeDate: string;
  firstNoticeDate: string | null;
  /** True when the last trade date was derived from the root's rule rather than read from the file. */
  expiryDerived: boolean;
  /** The rule used when the expiry was derived. */
  expiryRule: string | null;
  /** Daily bars by trade date, ts = local midnight of the date. */
  bars: BarColumns;
  openInterest: Array<{ date: string; openInterest: number }>;
}

/** A row dated off-session whose figures went into the bar of a later trade date. */
export interface MergedRow {
  line: number;
  contract: string;
  date: string;
  tradeDate: string;
}

export interface ParseFuturesResult {
  contracts: ParsedContract[];
  rowsRead: number;
  /** Rows whose figures were stored (some folded into another row's trade date). */
  rowsUsed: number;
  /** Rows repeating an earlier row exactly; used once. */
  duplicates: number;
  rejected: RejectedRow[];
  rejectedCount: number;
  merged: MergedRow[];
  mergedCount: number;
  /** Rows with open interest but no prices (no bar; the open interest is kept). */
  openInterestOnly: number;
  ignoredColumns: string[];
}

const REQUIRED = ['contract', 'date', 'open', 'high', 'low', 'close', 'volume'] as const;
const PRICE_FIELDS = ['open', 'high', 'low', 'close', 'volume'] as const;
const EXPIRY_COLUMNS = ['last_trade_date', 'expiry'];
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

class RowError extends Error {}

function number(raw: string, field: string): number {
  if (!NUMBER.test(raw)) throw new RowError(`${field} ${JSON.stringify(raw.slice(0, 40))} is not a number`);
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new RowError(`${field} ${raw.slice(0, 40)} is not a finite number`);
  return value;
}

function isoDate(raw: string, field: string): string {
  try {
    parseIsoDate(raw);
    return raw;
  } catch {
    throw new RowError(`${field} ${JSON.stringify(raw.slice(0, 40))} is not a YYYY-MM-DD date`);
  }
}

/** One row as read: `prices` is undefined for an open-interest-only row. */
interface Entry {
  line: number;
  date: string;
  prices?: [number, number, number, number, number];
  openInterest: number;
}

interface ContractAccumulator {
  code: ContractCode;
  lastTradeDate?: { value: string; line: number };
  firstNoticeDate?: { value: string; line: number };
  byDate: Map<string, Entry>;
  lines: number[];
}

const sameEntry = (a: Entry, b: Entry) =>
  (Number.isNaN(a.openInterest) ? Number.isNaN(b.openInterest) : a.openInterest === b.openInterest) &&
  (a.prices === undefined ? b.prices === undefined : b.prices !== undefined && a.prices.every((v, i) => v === b.prices![i]));

/** A contract-level attribute that every row giving it must agree on. */
function agree(
  current: { value: string; line: number } | undefined,
  raw: string,
  field: string,
  line: number,
): { value: string; line: number } | undefined {
  if (raw === '') return current;
  const value = isoDate(raw, field);
  if (current && current.value !== value)
    throw new RowError(`${field} ${value} differs from ${current.value} on line ${current.line}`);
  return current ?? { value, line };
}

/**
 * Parses futures daily bars by contract (`contract, contract_month, date, open, high, low,
 * close, volume, open_interest`, optionally `last_trade_date` or `expiry` and
 * `first_notice_date`). Prices may be blank on rows that carry only open interest. Each row's
 * date is mapped to its trade date (see NonSessionPolicy); rows of one contract and trade
 * date form one bar: first open, highest high, lowest low, last close, summed volume, the
 * latest open interest. Bad rows are listed by line; a problem with the file itself throws
 * CsvFormatError.
 */
export function parseFuturesCsv(text: string, options: ParseFuturesOptions): ParseFuturesResult {
  const { calendar } = options;
  const maxListed = options.maxListed ?? 1000;
  const { header, records } = readCsvRecords(text);
  const column = (name: string) => header.indexOf(name);
  const missing = REQUIRED.filter((name) => column(name) < 0);
  if (missing.length > 0) {
    throw new CsvFormatError(
      `the header must name ${REQUIRED.join(', ')} (contract_month, open_interest, last_trade_date, first_notice_date optional); missing ${missing.join(', ')}`,
      1,
    );
  }
  const duplicateNames = header.filter((name, i) => name !== '' && header.indexOf(name) !== i);
  if (duplicateNames.length > 0) throw new CsvFormatError(`the header repeats ${[...new Set(duplicateNames)].join(', ')}`, 1);

  const expiryIndex = column(EXPIRY_COLUMNS.find((name) => column(name) >= 0) ?? '');
  const index = {
    contract: column('contract'),
    contractMonth: column('contract_month'),
    date: column('date'),
    prices: PRICE_FIELDS.map(column),
    openInterest: column('open_interest'),
    expiry: expiryIndex,
    firstNotice: column('first_notice_date'),
  };
  const used = new Set([
    index.contract,
    index.contractMonth,
    index.date,
    ...index.prices,
    index.openInterest,
    index.expiry,
    index.firstNotice,
  ]);
  const ignoredColumns = header.filter((name, i) => !used.has(i) && name !== '');
  const field = (record: string[], i: number) => (i >= 0 ? record[i] : '');

  const contracts = new Map<string, ContractAccumulator>();
  const rejected = new RejectedRows(maxListed);
  let duplicates = 0;

  for (let r = 1; r < records.length; r++) {
    const { record, info } = records[r];
    const line = info.lines;
    try {
      if (record.length !== header.length) {
        throw new RowError(`expected ${header.length} fields as in the header, found ${record.length}`);
      }
      let code: ContractCode;
      try {
        code = parseContractCode(record[index.contract], field(record, index.contractMonth));
      } catch (error) {
        throw new RowError((error as Error).message);
      }
      const date = isoDate(record[index.date], 'date');
      if (date < calendar.range.first || date > calendar.range.last) {
        throw new RowError(
          `date ${date} is outside the ${calendar.name} calendar (${calendar.range.first} … ${calendar.range.last})`,
        );
      }

      const rawPrices = index.prices.map((i) => record[i]);
      const openInterest = field(record, index.openInterest) === '' ? NaN : number(record[index.openInterest], 'open_interest');
      if (openInterest < 0) throw new RowError(`open_interest ${openInterest} is negative`);
      let prices: Entry['prices'];
      if (rawPrices.every((raw) => raw === '')) {
        if (Number.isNaN(openInterest)) throw new RowError('the row has neither prices nor open interest');
      } else {
        const blank = rawPrices.findIndex((raw) => raw === '');
        if (blank >= 0) throw new RowError(`${PRICE_FIELDS[blank]} is empty while other prices are given`);
        prices = rawPrices.map((raw, k) => number(raw, PRICE_FIELDS[k])) as Entry['prices'];
        const problem = barProblem(...prices!);
        if (problem) throw new RowError(problem);
      }

      let acc = contracts.get(code.contract);
      const lastTradeDate = agree(
        acc?.lastTradeDate,
        field(record, index.expiry),
        header[index.expiry] ?? 'last_trade_date',
        line,
      );
      const firstNoticeDate = agree(acc?.firstNoticeDate, field(record, index.firstNotice), 'first_notice_date', line);
      if (acc && (acc.code.year !== code.year || acc.code.month !== code.month)) {
        throw new RowError(
          `contract ${code.contract} is ${code.year}-${code.month} here but ${acc.code.year}-${acc.code.month} on line ${acc.lines[0]}`,
        );
      }
      const entry: Entry = { line, date, prices, openInterest };
      const earlier = acc?.byDate.get(date);
      if (earlier) {
        if (sameEntry(earlier, entry)) {
          duplicates++;
          continue;
        }
        throw new RowError(`contract ${code.contract} has another row for ${date} with different values (line ${earlier.line})`);
      }
      if (!acc) {
        acc = { code, byDate: new Map(), lines: [] };
        contracts.set(code.contract, acc);
      }
      acc.lastTradeDate = lastTradeDate;
      acc.firstNoticeDate = firstNoticeDate;
      acc.byDate.set(date, entry);
      acc.lines.push(line);
    } catch (error) {
      if (!(error instanceof RowError)) throw error;
      rejected.add(line, error.message);
    }
  }

  const parsed: ParsedContract[] = [];
  const merged: MergedRow[] = [];
  let mergedCount = 0;
  let rowsUsed = 0;
  let openInterestOnly = 0;
  for (const acc of contracts.values()) {
    const { code } = acc;
    const spec = ROOT_SPECS.get(code.root);
    if (!acc.lastTradeDate && !spec) {
      for (const line of acc.lines) {
        rejected.add(line, `no expiry rule is known for root ${code.root}: give a last_trade_date column for ${code.contract}`);
      }
      continue;
    }
    let lastTradeDate: string;
    try {
      lastTradeDate = acc.lastTradeDate
        ? sessionOnOrBefore(acc.lastTradeDate.value, calendar)
        : spec!.expiry.lastTradeDate(code.year, code.month, calendar);
    } catch (error) {
      for (const line of acc.lines)
        rejected.add(line, `cannot place ${code.contract}'s last trade date: ${(error as Error).message}`);
      continue;
    }

    const byTradeDate = new Map<string, Entry[]>();
    for (const entry of [...acc.byDate.values()].sort((a, b) => (a.date < b.date ? -1 : 1))) {
      const session = calendar.session(entry.date);
      if (!session && options.nonSessionRows === 'reject') {
        const weekday = WEEKDAYS[new Date(`${entry.date}T12:00:00Z`).getUTCDay()];
        rejected.add(
          entry.line,
          `date ${entry.date} (${weekday}) is not a ${calendar.name} session and nonSessionRows is reject`,
        );
        continue;
      }
      let tradeDate: string;
      try {
        tradeDate = session ? entry.date : calendar.nextSession(entry.date).date;
      } catch (error) {
        rejected.add(entry.line, (error as Error).message);
        continue;
      }
      if (tradeDate > lastTradeDate) {
        rejected.add(entry.line, `trade date ${tradeDate} is after ${code.contract}'s last trade date ${lastTradeDate}`);
        continue;
      }
      if (tradeDate !== entry.date) {
        mergedCount++;
        if (merged.length < maxListed) merged.push({ line: entry.line, contract: code.contract, date: entry.date, tradeDate });
      }
      const group = byTradeDate.get(tradeDate);
      if (group) group.push(entry);
      else byTradeDate.set(tradeDate, [entry]);
    }

    const dates = [...byTradeDate.keys()].filter((date) => byTradeDate.get(date)!.some((entry) => entry.prices));
    const bars = allocateBars(dates.length);
    bars.vwap.fill(NaN);
    bars.tradeCount.fill(NaN);
    dates.forEach((date, i) => {
      const priced = byTradeDate.get(date)!.filter((entry) => entry.prices);
      const first = priced[0].prices!;
      bars.ts[i] = localMidnight(date, calendar.timeZone);
      bars.open[i] = first[0];
      bars.high[i] = Math.max(...priced.map((entry) => entry.prices![1]));
      bars.low[i] = Math.min(...priced.map((entry) => entry.prices![2]));
      bars.close[i] = priced[priced.length - 1].prices![3];
      bars.volume[i] = priced.reduce((sum, entry) => sum + entry.prices![4], 0);
    });
    const openInterest: ParsedContract['openInterest'] = [];
    for (const [date, group] of byTradeDate) {
      rowsUsed += group.length;
      openInterestOnly += group.filter((entry) => !entry.prices).length;
      const latest = group.filter((entry) => !Number.isNaN(entry.openInterest)).at(-1);
      if (latest) openInterest.push({ date, openInterest: latest.openInterest });
    }
    parsed.push({
      ...code,
      contractMonth: `${code.year}-${String(code.month).padStart(2, '0')}-01`,
      lastTradeDate,
      firstNoticeDate: acc.firstNoticeDate?.value ?? null,
      expiryDerived: !acc.lastTradeDate,
      expiryRule: acc.lastTradeDate ? null : `${code.root}: ${spec!.expiry.description}`,
      bars,
      openInterest,
    });
  }
  parsed.sort((a, b) =>
    a.lastTradeDate === b.lastTradeDate ? (a.contract < b.contract ? -1 : 1) : a.lastTradeDate < b.lastTradeDate ? -1 : 1,
  );
  rejected.rows.sort((a, b) => a.line - b.line);
  merged.sort((a, b) => a.line - b.line);
  return {
    contracts: parsed,
    rowsRead: records.length - 1,
    rowsUsed,
    duplicates,
    rejected: rejected.rows,
    rejectedCount: rejected.count,
    merged,
    mergedCount,
    openInterestOnly,
    ignoredColumns,
  };
}
