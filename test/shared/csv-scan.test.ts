import { expect } from 'chai';
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { CsvFormatError } from '../../src/shared/csv.js';
import { scanCsvRecords } from '../../src/shared/csv-scan.js';

type Read = { records: Array<[string[], number]>; failed: boolean };

/** The reference: csv-parse with the options every other CSV reader of tickforge uses. */
function csvParse(text: string): Read {
  const records: Read['records'] = [];
  try {
    parse(text, {
      bom: true,
      skip_empty_lines: true,
      relax_column_count: true,
      record_delimiter: ['\r\n', '\n', '\r'],
      trim: true,
      on_record: (record: string[], context) => {
        records.push([record, context.lines]);
        return null;
      },
    });
  } catch {
    return { records, failed: true };
  }
  return { records, failed: false };
}

/** The scanner, fed the text's bytes cut at the given places, as the import feeds it chunk by chunk. */
function scanned(text: string, cuts: number[]): Read {
  const bytes = Buffer.from(text, 'utf8');
  const records: Read['records'] = [];
  const ends = [...cuts.map((cut) => Math.min(cut, bytes.length)).sort((a, b) => a - b), bytes.length];
  let rest = new Uint8Array(0);
  let line = 0;
  let from = 0;
  try {
    ends.forEach((to, i) => {
      const chunk = Buffer.concat([rest, bytes.subarray(from, Math.max(from, to))]);
      from = Math.max(from, to);
      const end = scanCsvRecords(chunk, line, i === ends.length - 1, (record, at) => records.push([record, at]));
      line = end.line;
      rest = chunk.subarray(end.consumed);
    });
  } catch (error) {
    if (!(error instanceof CsvFormatError)) throw error;
    return { records, failed: true };
  }
  return { records, failed: false };
}

const pieces = ['a', 'b7', '1.5', ',', ',', '"', '""', '\n', '\r', '\r\n', ' ', '\t', 'é', '€'];
// csv-parse reads `"" ""` (blanks between a closing and an opening quote) as one empty field; the scanner refuses it.
const text = fc
  .array(fc.constantFrom(...pieces), { maxLength: 30 })
  .map((parts) => parts.join(''))
  .filter((candidate) => !/"[ \t]+"/.test(candidate));

describe('scanCsvRecords', () => {
  it('should read any text as csv-parse does: the same records, the same line numbers, and refuse what it refuses', () => {
    fc.assert(
      fc.property(text, fc.array(fc.nat(40), { maxLength: 3 }), (candidate, cuts) => {
        const expected = csvParse(candidate);
        const actual = scanned(candidate, cuts);
        expect(actual.failed).to.equal(expected.failed);
        if (!expected.failed) expect(actual.records).to.deep.equal(expected.records);
      }),
      { numRuns: 3000, seed: 15 },
    );
  });

  it('should leave a record the bytes end inside unread until the bytes that complete it arrive', () => {
    const seen: string[][] = [];
    const first = scanCsvRecords(Buffer.from('a,b\r'), 0, false, (record) => seen.push(record));
    expect(first).to.deep.equal({ consumed: 0, line: 0 });
    const second = scanCsvRecords(Buffer.from('a,b\r\n"c\nd'), 0, false, (record) => seen.push(record));
    expect(second).to.deep.equal({ consumed: 5, line: 1 });
    expect(seen).to.deep.equal([['a', 'b']]);
  });

  it('should refuse a record longer than 65,536 bytes even when no line break ever comes', () => {
    const long = Buffer.alloc(70_000, 0x61);
    expect(() => scanCsvRecords(long, 0, false, () => undefined)).to.throw(CsvFormatError, /longer than 65,536/);
    const quoted = Buffer.concat([Buffer.from('"'), long]);
    expect(() => scanCsvRecords(quoted, 0, false, () => undefined)).to.throw(CsvFormatError, /longer than 65,536/);
  });
});
