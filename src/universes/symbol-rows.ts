import { z } from 'zod';
import { CsvFormatError, readCsvRecords } from '../shared/csv.js';
import { SYMBOL_PATTERN } from '../shared/symbols.js';
import { calendarDateSchema } from '../shared/dates.js';
import { etfThemeOf } from './etf-themes.js';

/**
 * Reference data for one symbol as the importer stores it. A field left out (or blank) means
 * "no information": the stored value is kept.
 */
export interface SymbolRecord {
  symbol: string;
  name?: string;
  kind?: 'stock' | 'etf' | 'future' | 'index';
  sector?: string;
  industry?: string;
  exchange?: string;
  shares_outstanding?: number;
  market_cap?: number;
  avg_volume?: number;
  ipo_date?: string;
  status?: 'active' | 'inactive' | 'delisted';
  delisted_at?: string;
  theme?: string;
  aum?: number;
  /** A fraction: 0.0009 is 0.09 %. */
  expense_ratio?: number;
  metadata?: Record<string, unknown>;
}

/** The field names of the `tickforge` layout: the columns of the symbols table. */
export const SYMBOL_FIELDS = [
  'symbol',
  'name',
  'kind',
  'sector',
  'industry',
  'exchange',
  'shares_outstanding',
  'market_cap',
  'avg_volume',
  'ipo_date',
  'status',
  'delisted_at',
  'theme',
  'aum',
  'expense_ratio',
  'metadata',
] as const;

/**
 * File layouts the importer reads. `tickforge`: the SYMBOL_FIELDS as columns. The other two
 * are the published files the project ships tests and a demo with (see docs/universes.md).
 */
export const SYMBOL_LAYOUTS = ['tickforge', 'sp500-constituents', 'us-etfs'] as const;
export type SymbolLayout = (typeof SYMBOL_LAYOUTS)[number];

export interface RejectedSymbolRow {
  /** CSV line, or 1-based position in a JSON array / rows payload. */
  line: number;
  reason: string;
}

export interface ParsedSymbols {
  layout: SymbolLayout;
  rowsRead: number;
  records: SymbolRecord[];
  rejected: RejectedSymbolRow[];
  /** Input columns (or row fields) the layout does not use. */
  ignoredColumns: string[];
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const blank = (value: unknown) => value === undefined || value === null || (typeof value === 'string' && value.trim() === '');

/** Blank means unknown; numeric text becomes a number so CSV and JSON rows validate alike. */
const numeric = (schema: z.ZodNumber) =>
  z.preprocess((value) => {
    if (blank(value)) return undefined;
    if (typeof value === 'string' && NUMBER.test(value.trim())) return Number(value.trim());
    return value;
  }, schema.optional());

const text = (max = 200) =>
  z.preprocess(
    (value) => (blank(value) ? undefined : typeof value === 'string' ? value.trim() : value),
    z.string().max(max).optional(),
  );

const isoDate = z.preprocess(
  (value) => (blank(value) ? undefined : typeof value === 'string' ? value.trim() : value),
  calendarDateSchema.optional(),
);

const amount = z.number({ message: 'must be a number' }).finite('must be finite').nonnegative('must be >= 0');

const metadata = z.preprocess(
  (value) => {
    if (blank(value)) return undefined;
    if (typeof value !== 'string') return value;
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  },
  z.record(z.string(), z.unknown(), { message: 'must be a JSON object' }).optional(),
);

/** One input row, validated; every message names its field. */
export const symbolRowSchema = z
  .object({
    symbol: z.preprocess(
      (value) => (typeof value === 'string' ? value.trim() : value),
      z.string({ message: 'is required' }).regex(SYMBOL_PATTERN, 'must be 1-32 characters: letters, digits and . - _ ^ = /'),
    ),
    name: text(),
    kind: z.preprocess(
      (value) => (blank(value) ? undefined : typeof value === 'string' ? value.trim().toLowerCase() : value),
      z.enum(['stock', 'etf', 'future', 'index'], { message: 'must be stock, etf, future or index' }).optional(),
    ),
    sector: text(),
    industry: text(),
    exchange: text(40),
    shares_outstanding: numeric(amount),
    market_cap: numeric(amount),
    avg_volume: numeric(amount),
    ipo_date: isoDate,
    status: z.preprocess(
      (value) => (blank(value) ? undefined : typeof value === 'string' ? value.trim().toLowerCase() : value),
      z.enum(['active', 'inactive', 'delisted'], { message: 'must be active, inactive or delisted' }).optional(),
    ),
    delisted_at: isoDate,
    theme: z.preprocess(
      (value) => (blank(value) ? undefined : typeof value === 'string' ? value.trim() : value),
      z
        .string()
        .regex(/^[a-z][a-z0-9_]{0,39}$/, 'must be a lower-case theme name such as growth')
        .optional(),
    ),
    aum: numeric(amount),
    expense_ratio: numeric(
      z
        .number({ message: 'must be a number' })
        .finite('must be finite')
        .min(0, 'must be >= 0')
        .lt(1, 'must be a fraction below 1 (0.0075 is 0.75 %)'),
    ),
    metadata,
  })
  .strip();

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.map(String).join('.') || 'row'} ${issue.message}`).join('; ');
}

/** A row of a published layout, keyed by its own column names. */
type SourceRow = Record<string, unknown>;

const sourceText = (row: SourceRow, column: string) =>
  row[column] === undefined || row[column] === null ? '' : String(row[column]).trim();

/** Maps a row of a published layout onto the tickforge fields; throws a reason naming the source column. */
type LayoutMapper = (row: SourceRow) => Record<string, unknown>;

class SourceError extends Error {}

function sourceNumber(row: SourceRow, column: string): number | undefined {
  const raw = sourceText(row, column);
  if (raw === '') return undefined;
  if (!NUMBER.test(raw) || !Number.isFinite(Number(raw)))
    throw new SourceError(`${column} ${JSON.stringify(raw.slice(0, 40))} is not a number`);
  return Number(raw);
}

/** M/D/YYYY, as the US ETF file writes inception dates. */
function usDate(row: SourceRow, column: string): string | undefined {
  const raw = sourceText(row, column);
  if (raw === '') return undefined;
  const match = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(raw);
  if (!match) throw new SourceError(`${column} ${JSON.stringify(raw.slice(0, 40))} is not an M/D/YYYY date`);
  return `${match[3]}-${match[1].padStart(2, '0')}-${match[2].padStart(2, '0')}`;
}

interface LayoutSpec {
  /** Source columns the mapper reads. */
  columns: readonly string[];
  map: LayoutMapper;
}

const LAYOUTS: Record<Exclude<SymbolLayout, 'tickforge'>, LayoutSpec> = {
  // datasets/s-and-p-500-companies-financials: the file carries price and market cap, not
  // shares; shares outstanding = market cap / price on the file's date.
  'sp500-constituents': {
    columns: ['Symbol', 'Name', 'Sector', 'Price', 'Market Cap'],
    map(row) {
      const price = sourceNumber(row, 'Price');
      const marketCap = sourceNumber(row, 'Market Cap');
      if (price !== undefined && price <= 0) throw new SourceError(`Price ${price} must be above 0`);
      return {
        symbol: row.Symbol,
        name: row.Name,
        kind: 'stock',
        sector: row.Sector,
        market_cap: marketCap,
        shares_outstanding: price !== undefined && marketCap !== undefined ? marketCap / price : undefined,
      };
    },
  },
  // Yahoo Finance US fund data: AUM in total_net_assets (E-notation text), the expense ratio as
  // a fraction, the 3-month average volume, inception as M/D/YYYY.
  'us-etfs': {
    columns: [
      'fund_symbol',
      'quote_type',
      'exchange_code',
      'fund_category',
      'avg_vol_3month',
      'total_net_assets',
      'fund_annual_report_net_expense_ratio',
      'inception_date',
      'investment_type',
      'asset_bonds',
    ],
    map(row) {
      const quoteType = sourceText(row, 'quote_type');
      if (quoteType !== '' && quoteType !== 'ETF') throw new SourceError(`quote_type ${JSON.stringify(quoteType)} is not ETF`);
      const category = sourceText(row, 'fund_category');
      const investmentType = sourceText(row, 'investment_type');
      const assetBonds = sourceNumber(row, 'asset_bonds');
      const profile = { category, investmentType, assetBonds };
      const metadata = {
        ...(category ? { fund_category: category } : {}),
        ...(investmentType ? { investment_type: investmentType } : {}),
        ...(assetBonds !== undefined ? { asset_bonds: assetBonds } : {}),
      };
      return {
        symbol: row.fund_symbol,
        kind: 'etf',
        exchange: row.exchange_code,
        avg_volume: sourceNumber(row, 'avg_vol_3month'),
        aum: sourceNumber(row, 'total_net_assets'),
        expense_ratio: sourceNumber(row, 'fund_annual_report_net_expense_ratio'),
        ipo_date: usDate(row, 'inception_date'),
        theme: etfThemeOf(profile),
        metadata: Object.keys(metadata).length > 0 ? metadata : undefined,
      };
    },
  },
};

/** Picks the layout from a header: the published files are recognised by their column names. */
export function detectLayout(header: readonly string[]): SymbolLayout {
  if (header.includes('fund_symbol') && header.includes('total_net_assets')) return 'us-etfs';
  if (header.includes('Symbol') && header.includes('Market Cap')) return 'sp500-constituents';
  return 'tickforge';
}

/**
 * Validates rows (objects keyed by column or field name) in one layout. Every bad row is
 * listed with its line and reason, and a symbol given twice is refused at its second line.
 */
export function validateSymbolRows(
  rows: ReadonlyArray<{ line: number; row: Record<string, unknown> }>,
  layout: SymbolLayout,
  presentColumns: readonly string[],
): Omit<ParsedSymbols, 'rowsRead'> {
  const records: SymbolRecord[] = [];
  const rejected: RejectedSymbolRow[] = [];
  const seen = new Map<string, number>();
  const spec = layout === 'tickforge' ? undefined : LAYOUTS[layout];
  const used = new Set<string>(spec ? spec.columns : SYMBOL_FIELDS);
  const ignoredColumns = presentColumns.filter((column) => column !== '' && !used.has(column));

  for (const { line, row } of rows) {
    let input: Record<string, unknown>;
    try {
      input = spec ? spec.map(row) : row;
    } catch (error) {
      if (!(error instanceof SourceError)) throw error;
      rejected.push({ line, reason: error.message });
      continue;
    }
    const parsed = symbolRowSchema.safeParse(input);
    if (!parsed.success) {
      rejected.push({ line, reason: describeIssues(parsed.error) });
      continue;
    }
    const record = Object.fromEntries(
      Object.entries(parsed.data).filter(([, value]) => value !== undefined),
    ) as unknown as SymbolRecord;
    const earlier = seen.get(record.symbol);
    if (earlier !== undefined) {
      rejected.push({ line, reason: `symbol ${record.symbol} repeats line ${earlier}` });
      continue;
    }
    seen.set(record.symbol, line);
    records.push(record);
  }
  return { layout, records, rejected, ignoredColumns };
}

/** Parses a symbols CSV (header row first) in the given layout, or the one its header names. */
export function parseSymbolsCsv(text: string, layout: SymbolLayout | 'auto' = 'auto'): ParsedSymbols {
  const { rawHeader, records } = readCsvRecords(text, { trimCells: false });
  const chosen = layout === 'auto' ? detectLayout(rawHeader) : layout;
  const header = chosen === 'tickforge' ? rawHeader.map((name) => name.toLowerCase()) : rawHeader;
  const needed = chosen === 'tickforge' ? 'symbol' : LAYOUTS[chosen].columns[0];
  if (!header.includes(needed)) {
    throw new CsvFormatError(`the ${chosen} layout needs a ${needed} column; the header has none`, 1);
  }
  const repeated = header.filter((name, i) => name !== '' && header.indexOf(name) !== i);
  if (repeated.length > 0) throw new CsvFormatError(`the header repeats ${[...new Set(repeated)].join(', ')}`, 1);

  const rows: Array<{ line: number; row: Record<string, unknown> }> = [];
  const shortRows: RejectedSymbolRow[] = [];
  for (let r = 1; r < records.length; r++) {
    const { record, info } = records[r];
    if (record.length !== header.length) {
      shortRows.push({ line: info.lines, reason: `expected ${header.length} fields as in the header, found ${record.length}` });
      continue;
    }
    rows.push({ line: info.lines, row: Object.fromEntries(header.map((name, i) => [name, record[i]])) });
  }
  const validated = validateSymbolRows(rows, chosen, header);
  return {
    ...validated,
    rowsRead: records.length - 1,
    rejected: [...shortRows, ...validated.rejected].sort((a, b) => a.line - b.line),
  };
}

/**
 * Validates JSON input: an array of rows, or `{symbols: [...]}`. Rows are numbered from 1 in
 * the order given; the layout is `tickforge` unless the rows use a published file's names.
 */
export function parseSymbolsJson(value: unknown, layout: SymbolLayout | 'auto' = 'auto'): ParsedSymbols {
  const list = Array.isArray(value) ? value : (value as { symbols?: unknown } | null)?.symbols;
  if (!Array.isArray(list)) throw new CsvFormatError('the JSON must be an array of rows or an object with a symbols array');
  const rows: Array<{ line: number; row: Record<string, unknown> }> = [];
  const rejected: RejectedSymbolRow[] = [];
  const columns = new Set<string>();
  list.forEach((row: unknown, index) => {
    if (row === null || typeof row !== 'object' || Array.isArray(row)) {
      rejected.push({ line: index + 1, reason: 'row is not an object' });
      return;
    }
    for (const key of Object.keys(row)) columns.add(key);
    rows.push({ line: index + 1, row: row as Record<string, unknown> });
  });
  const chosen = layout === 'auto' ? detectLayout([...columns]) : layout;
  const validated = validateSymbolRows(rows, chosen, [...columns]);
  return {
    ...validated,
    rowsRead: list.length,
    rejected: [...rejected, ...validated.rejected].sort((a, b) => a.line - b.line),
  };
}
