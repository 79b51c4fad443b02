import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RecordBatchFileWriter, type RecordBatch } from 'apache-arrow';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import type { SchemaElement } from 'hyparquet';
import type { SeriesRows } from './bars.reader.js';
import { allocateBars } from './columns.js';
import { arrowTable, ONE_CHUNK } from './formats.js';
import type { ExportFormat } from './export-bars.contract.js';

/** Rows of one symbol, one chunk of its answer at a time. */
export interface SymbolRows {
  symbol: string;
  rows: SeriesRows;
}

/** What an export file is named after: the query it answers. */
export interface ExportQuery {
  symbols: readonly string[];
  timeframe: string;
  session: string;
  alignment: string;
  fill: string;
  from?: string;
  to?: string;
  format: ExportFormat;
}

const EXTENSIONS: Record<ExportFormat, string> = { arrow: 'arrow', parquet: 'parquet' };
/** Symbols named in a file name; more are counted, and the hash tells the lists apart. */
const NAMED_SYMBOLS = 3;
/** Marks a file being written; a finished file never carries it. */
const PARTIAL = '.partial';
/**
 * A partial file untouched this long was left by an attempt that died (a live writer adds a
 * chunk every few seconds); a younger one may belong to a job exporting the same query right now.
 */
export const STALE_PARTIAL_MS = 5 * 60_000;

/** Keeps a value to the characters a file name may hold on every system. */
const safe = (value: string) => value.replace(/[^A-Za-z0-9.-]+/g, '_');

/**
 * The file name of an export: readable parts of the query and a hash of all of it, so the same
 * query always writes the same file and two queries never share one. Built only from validated
 * fields, and stripped to letters, digits, '.', '-' and '_': it never leaves the directory.
 */
export function exportFileName(query: ExportQuery): string {
  const { symbols, timeframe, session, alignment, fill, from, to, format } = query;
  const identity = JSON.stringify({ symbols, timeframe, session, alignment, fill, from, to, format });
  const hash = createHash('sha256').update(identity).digest('hex').slice(0, 12);
  const named = symbols.slice(0, NAMED_SYMBOLS).join('+');
  const symbolPart = symbols.length > NAMED_SYMBOLS ? `${named}+${symbols.length - NAMED_SYMBOLS}more` : named;
  const parts = [
    symbolPart,
    timeframe,
    session,
    alignment,
    ...(fill === 'none' ? [] : [`fill-${fill}`]),
    from ?? 'start',
    to ?? 'end',
  ];
  return `bars_${parts.map(safe).join('_')}_${hash}.${EXTENSIONS[format]}`;
}

/**
 * One Arrow record batch per chunk (batches, not tables: see formats.ts), with the symbol as the
 * first column; an empty file still carries its schema.
 */
async function* arrowBatches(chunks: AsyncIterable<SymbolRows>, withFills: boolean): AsyncGenerator<RecordBatch> {
  let any = false;
  for await (const { symbol, rows } of chunks) {
    if (rows.bars.ts.length === 0) continue;
    any = true;
    yield* arrowTable(rows, withFills, symbol).batches;
  }
  if (!any) yield* arrowTable({ bars: allocateBars(0), filled: new Uint8Array(0) }, withFills, '').batches;
}

/** The Parquet schema of exported bars: the Arrow file's columns, ts as a UTC millisecond timestamp. */
function parquetSchema(withFills: boolean): SchemaElement[] {
  const price = (name: string): SchemaElement => ({ name, type: 'DOUBLE', repetition_type: 'REQUIRED' });
  const columns: SchemaElement[] = [
    { name: 'symbol', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
    {
      name: 'ts',
      type: 'INT64',
      converted_type: 'TIMESTAMP_MILLIS',
      logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' },
      repetition_type: 'REQUIRED',
    },
    ...['open', 'high', 'low', 'close', 'volume'].map(price),
    { name: 'vwap', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
    ...(withFills ? [{ name: 'filled', type: 'BOOLEAN', repetition_type: 'REQUIRED' } as SchemaElement] : []),
  ];
  return [{ name: 'root', num_children: columns.length }, ...columns];
}

/**
 * Parquet bytes, one row group per chunk: each group is encoded into one buffer and handed on
 * before the next chunk is read, so memory holds one chunk whatever the file's size.
 */
async function* parquetBytes(chunks: AsyncIterable<SymbolRows>, withFills: boolean): AsyncGenerator<Uint8Array> {
  const bytes = new ByteWriter();
  const writer = new ParquetWriter({ writer: bytes, schema: parquetSchema(withFills), createdBy: 'tickforge export-bars' });
  const take = () => {
    const out = bytes.getBytes().slice();
    bytes.index = 0;
    return out;
  };
  yield take();
  for await (const { symbol, rows } of chunks) {
    const { bars, filled } = rows;
    const count = bars.ts.length;
    if (count === 0) continue;
    const columnData = [
      { name: 'symbol', data: new Array<string>(count).fill(symbol) },
      { name: 'ts', data: bars.ts },
      ...(['open', 'high', 'low', 'close', 'volume'] as const).map((name) => ({ name, data: bars[name] })),
      { name: 'vwap', data: Array.from(bars.vwap, (value) => (Number.isNaN(value) ? null : value)) },
      ...(withFills ? [{ name: 'filled', data: Array.from(filled, (flag) => flag === 1) }] : []),
    ];
    await writer.write({ columnData, rowGroupSize: count });
    yield take();
  }
  await writer.finish();
  yield take();
}

/** The chunks encoded as a file of the format, as a byte stream. */
function encodeFile(format: ExportFormat, chunks: AsyncIterable<SymbolRows>, withFills: boolean): Readable {
  if (format === 'parquet') return Readable.from(parquetBytes(chunks, withFills), ONE_CHUNK);
  const tables = Readable.from(arrowBatches(chunks, withFills), ONE_CHUNK);
  const writer = RecordBatchFileWriter.throughNode();
  tables.on('error', (error) => writer.destroy(error));
  return tables.pipe(writer);
}

/** Removes the partial files of `name` that no writer has touched for STALE_PARTIAL_MS. */
async function removeStalePartials(directory: string, name: string): Promise<void> {
  const partials = (await readdir(directory)).filter((file) => file.startsWith(`${name}.`) && file.endsWith(PARTIAL));
  await Promise.all(
    partials.map(async (file) => {
      const where = path.join(directory, file);
      const modified = await stat(where).then(
        (info) => info.mtimeMs,
        () => Date.now(),
      );
      if (Date.now() - modified > STALE_PARTIAL_MS) await rm(where, { force: true });
    }),
  );
}

/**
 * Writes the chunks to `directory/name` as one complete file or not at all: the bytes go to a
 * partial file of this attempt's own beside it, renamed over the name once the last byte is on
 * disk (two jobs exporting the same query at once each rename a complete file). Partial files an
 * earlier attempt left behind (a crashed worker: untouched for STALE_PARTIAL_MS) are removed
 * first, and this attempt's on failure. Returns the file's path and size.
 */
export async function writeExportFile(
  directory: string,
  name: string,
  format: ExportFormat,
  chunks: AsyncIterable<SymbolRows>,
  withFills: boolean,
): Promise<{ path: string; bytes: number }> {
  const target = path.join(path.resolve(directory), name);
  if (path.dirname(target) !== path.resolve(directory))
    throw new Error(`export file name ${JSON.stringify(name)} leaves the export directory`);
  await mkdir(path.dirname(target), { recursive: true });
  await removeStalePartials(path.dirname(target), name);
  const partial = `${target}.${randomBytes(6).toString('hex')}${PARTIAL}`;
  try {
    await pipeline(encodeFile(format, chunks, withFills), createWriteStream(partial, { flags: 'wx' }));
    await rename(partial, target);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
  return { path: target, bytes: (await stat(target)).size };
}
