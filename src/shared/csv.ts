import { parse } from 'csv-parse/sync';

/** A file-level problem: the import cannot proceed at all. */
export class CsvFormatError extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(line === undefined ? message : `line ${line}: ${message}`);
    this.name = 'CsvFormatError';
  }
}

export interface RejectedRow {
  line: number;
  reason: string;
}

/** Rejected rows of an import: every one counted, the first `maxListed` listed with line and reason. */
export class RejectedRows {
  readonly rows: RejectedRow[] = [];
  count = 0;

  constructor(private readonly maxListed: number) {}

  add(line: number, reason: string): void {
    this.count++;
    if (this.rows.length < this.maxListed) this.rows.push({ line, reason });
  }
}

/** CSV records with the line each ends on; the first is the header row. */
export interface CsvRecords {
  /** Header names, trimmed and lower-cased. */
  header: string[];
  /** Header names, trimmed, as the file spells them. */
  rawHeader: string[];
  records: Array<{ record: string[]; info: { lines: number } }>;
}

/**
 * What each csv-parse failure means, in words of our own: the parser's messages quote the text
 * around the fault, and a file that is not CSV must not be shown through an error.
 */
const CSV_PROBLEMS: Record<string, string> = {
  CSV_QUOTE_NOT_CLOSED: 'a quoted field is never closed',
  CSV_INVALID_CLOSING_QUOTE: 'a closing quote is followed by something other than a delimiter',
  CSV_INVALID_OPENING_QUOTE: 'a quote appears inside an unquoted field',
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: 'a closing quote is followed by something other than a delimiter',
  CSV_MAX_RECORD_SIZE: 'a row is longer than 65,536 characters',
};

/**
 * How every CSV is read: a BOM, blank lines and ragged rows tolerated, and rows ended by CRLF, LF
 * or CR in any mix (csv-parse would otherwise take the first row's ending for the whole file and
 * merge the rows ended otherwise).
 */
const READ_OPTIONS = {
  bom: true,
  skip_empty_lines: true,
  relax_column_count: true,
  max_record_size: 64 * 1024,
  record_delimiter: ['\r\n', '\n', '\r'],
};

/** The refusal of text csv-parse could not read: what is wrong and where, quoting nothing of it. */
function unreadable(error: unknown): CsvFormatError {
  const info = error as { lines?: number; code?: string };
  return new CsvFormatError(`the file is not readable CSV: ${CSV_PROBLEMS[info.code ?? ''] ?? 'it cannot be parsed'}`, info.lines);
}

/**
 * Reads CSV text (BOM, quoting, blank lines and ragged rows tolerated) into records; throws
 * CsvFormatError for unreadable CSV or a file without a header row.
 */
export function readCsvRecords(text: string, options: { trimCells?: boolean } = {}): CsvRecords {
  let records: CsvRecords['records'];
  try {
    records = parse(text, { ...READ_OPTIONS, info: true, trim: options.trimCells ?? true }) as unknown as CsvRecords['records'];
  } catch (error) {
    throw unreadable(error);
  }
  if (records.length === 0) throw new CsvFormatError('the file is empty: a header row is required');
  const rawHeader = records[0].record.map((name) => name.trim());
  return { header: rawHeader.map((name) => name.toLowerCase()), rawHeader, records };
}

/** A file-level problem reported by a CSV task instead of thrown across the thread boundary. */
export interface CsvFailure {
  ok: false;
  error: string;
  line?: number;
}

/**
 * Decodes a CSV file's bytes as strict UTF-8 and hands the text to `parse`; undecodable bytes
 * and CsvFormatErrors come back as a CsvFailure, anything else is thrown.
 */
export function parseCsvBytes<T>(bytes: Uint8Array, parse: (text: string) => T): T | CsvFailure {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { ok: false, error: 'the file is not valid UTF-8 text' };
  }
  try {
    return parse(text);
  } catch (error) {
    if (error instanceof CsvFormatError) return { ok: false, error: error.message, line: error.line };
    throw error;
  }
}
