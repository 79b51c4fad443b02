import { CsvFormatError } from './csv.js';

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;
/** The longest record read, in bytes: the readers built on csv-parse stop at 65,536 characters. */
const MAX_RECORD_BYTES = 64 * 1024;

/** Space, tab, vertical tab, form feed: the ASCII blanks trimmed around a field. */
const isBlank = (byte: number) => byte === 0x20 || byte === 0x09 || byte === 0x0b || byte === 0x0c;

const unreadable = (problem: string, line: number) => new CsvFormatError(`the file is not readable CSV: ${problem}`, line);

/** Where a scan of CSV bytes stopped: the start of the first record not read yet, and the lines before it. */
export interface CsvScanEnd {
  consumed: number;
  line: number;
}

/**
 * Reads the CSV records of `bytes` (UTF-8, without a BOM) as readCsvRecords reads text: fields
 * trimmed, quoted fields with "" for a quote and line breaks inside, rows ended by CRLF, LF or
 * CR in any mix, blank lines skipped. Each record goes to `visit` with the line it ends on
 * (counting from `line`, the lines before `bytes`). Unless `final`, a record the bytes end
 * inside is left unread, so the caller can hand it back with the bytes that follow; a problem
 * with the text throws CsvFormatError, quoting none of it.
 */
export function scanCsvRecords(
  bytes: Uint8Array,
  line: number,
  final: boolean,
  visit: (record: string[], line: number) => void,
): CsvScanEnd {
  // latin1Slice and utf8Slice are what toString(encoding, …) calls after checking its arguments.
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) as Buffer & {
    latin1Slice(from: number, to: number): string;
    utf8Slice(from: number, to: number): string;
  };
  const end = buffer.length;
  const text = (from: number, to: number, wide: boolean) => {
    if (!wide) {
      while (to > from && isBlank(buffer[to - 1])) to--;
      return buffer.latin1Slice(from, to);
    }
    return buffer.utf8Slice(from, to).trim();
  };
  let lines = line;
  let start = 0;
  records: while (start < end) {
    const record: string[] = [];
    let quoted = false;
    let position = start;
    let recordLines = lines;
    for (;;) {
      if (position - start > MAX_RECORD_BYTES) throw unreadable('a row is longer than 65,536 characters', recordLines + 1);
      let p = position;
      while (p < end && isBlank(buffer[p])) p++;
      if (p < end && buffer[p] === QUOTE) {
        quoted = true;
        let value = '';
        let from = ++p;
        for (;;) {
          if (p >= end) {
            if (p - start > MAX_RECORD_BYTES) throw unreadable('a row is longer than 65,536 characters', recordLines + 1);
            if (!final) break records;
            throw unreadable('a quoted field is never closed', lines + 1);
          }
          const byte = buffer[p];
          if (byte === QUOTE) {
            if (p + 1 >= end && !final) break records;
            value += buffer.utf8Slice(from, p);
            if (buffer[p + 1] !== QUOTE) break;
            value += '"';
            p += 2;
            from = p;
            continue;
          }
          // As csv-parse counts: each CR and each LF inside quotes is a line of its own.
          if (byte === LF || byte === CR) recordLines++;
          p++;
        }
        p++;
        while (p < end && isBlank(buffer[p])) p++;
        record.push(value);
        if (p < end && buffer[p] !== COMMA && buffer[p] !== LF && buffer[p] !== CR) {
          throw unreadable('a closing quote is followed by something other than a delimiter', recordLines + 1);
        }
      } else {
        const from = p;
        let wide = false;
        while (p < end) {
          const byte = buffer[p];
          if (byte === COMMA || byte === LF || byte === CR) break;
          if (byte === QUOTE) throw unreadable('a quote appears inside a field that does not start with one', recordLines + 1);
          if (byte >= 0x80) wide = true;
          p++;
        }
        record.push(text(from, p, wide));
      }
      if (p - start > MAX_RECORD_BYTES) throw unreadable('a row is longer than 65,536 characters', recordLines + 1);
      if (p >= end) {
        if (!final) break records;
        lines = recordLines + 1;
        if (quoted || record.length > 1 || record[0] !== '') visit(record, lines);
        start = end;
        break records;
      }
      if (buffer[p] === COMMA) {
        position = p + 1;
        continue;
      }
      // A CR that ends the bytes may be the first half of a CRLF.
      if (buffer[p] === CR && p + 1 >= end && !final) break records;
      lines = recordLines + 1;
      start = buffer[p] === CR && buffer[p + 1] === LF ? p + 2 : p + 1;
      if (quoted || record.length > 1 || record[0] !== '') visit(record, lines);
      continue records;
    }
  }
  return { consumed: start, line: lines };
}
