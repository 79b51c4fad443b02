import { Readable } from 'node:stream';
import type { RecordBatch } from 'apache-arrow';
import {
  Bool,
  Float64,
  RecordBatchStreamWriter,
  Table,
  TimestampMillisecond,
  Utf8,
  makeVector,
  vectorFromArray,
} from 'apache-arrow';
import type { SeriesRows } from './bars.reader.js';
import { barObjects } from './query.js';

/** The formats GET /api/bars answers in: one JSON document (cached), or a stream of bars. */
export const BAR_FORMATS = ['json', 'ndjson', 'csv', 'arrow'] as const;
export type BarFormat = (typeof BAR_FORMATS)[number];
export type StreamedFormat = Exclude<BarFormat, 'json'>;

export const CONTENT_TYPES: Record<StreamedFormat, string> = {
  ndjson: 'application/x-ndjson',
  csv: 'text/csv; charset=utf-8',
  arrow: 'application/vnd.apache.arrow.stream',
};

/** One JSON bar object per line, as in the JSON answer's `bars`. */
async function* ndjson(chunks: AsyncIterable<SeriesRows>, withFills: boolean): AsyncGenerator<string> {
  for await (const rows of chunks) {
    const lines = barObjects(rows, withFills).map((bar) => JSON.stringify(bar));
    if (lines.length > 0) yield `${lines.join('\n')}\n`;
  }
}

/** A header row, then one row per bar; numbers as JSON writes them, an unknown vwap empty. */
async function* csv(chunks: AsyncIterable<SeriesRows>, withFills: boolean): AsyncGenerator<string> {
  yield `ts,open,high,low,close,volume,vwap${withFills ? ',filled' : ''}\n`;
  for await (const { bars, filled } of chunks) {
    let text = '';
    for (let i = 0; i < bars.ts.length; i++) {
      const vwap = Number.isNaN(bars.vwap[i]) ? '' : String(bars.vwap[i]);
      text += `${new Date(bars.ts[i]).toISOString()},${bars.open[i]},${bars.high[i]},${bars.low[i]},${bars.close[i]},${bars.volume[i]},${vwap}`;
      text += withFills ? `,${filled[i] === 1}\n` : '\n';
    }
    if (text.length > 0) yield text;
  }
}

/**
 * One Arrow record batch per chunk: ts as a UTC millisecond timestamp, prices and volume float64,
 * vwap nullable; with `symbol`, a first column naming the series (files holding many symbols).
 */
export function arrowTable(rows: SeriesRows, withFills: boolean, symbol?: string): Table {
  const { bars, filled } = rows;
  const columns = {
    ...(symbol === undefined ? {} : { symbol: vectorFromArray(new Array<string>(bars.ts.length).fill(symbol), new Utf8()) }),
    ts: vectorFromArray(Array.from(bars.ts), new TimestampMillisecond('UTC')),
    open: makeVector(bars.open),
    high: makeVector(bars.high),
    low: makeVector(bars.low),
    close: makeVector(bars.close),
    volume: makeVector(bars.volume),
    vwap: vectorFromArray(
      Array.from(bars.vwap, (value) => (Number.isNaN(value) ? null : value)),
      new Float64(),
    ),
  };
  if (!withFills) return new Table(columns);
  return new Table({
    ...columns,
    filled: vectorFromArray(
      Array.from(filled, (flag) => flag === 1),
      new Bool(),
    ),
  });
}

/**
 * The record batches of each chunk. Batches, not tables: an Arrow writer given a Table writes
 * its batches and then finishes, so a second table would find the stream closed.
 */
async function* arrow(chunks: AsyncIterable<SeriesRows>, withFills: boolean): AsyncGenerator<RecordBatch> {
  let any = false;
  for await (const rows of chunks) {
    if (rows.bars.ts.length === 0 && any) continue;
    any = true;
    yield* arrowTable(rows, withFills).batches;
  }
  // An empty answer still carries its schema.
  if (!any) yield* arrowTable({ bars: emptyBars(), filled: new Uint8Array(0) }, withFills).batches;
}

function emptyBars(): SeriesRows['bars'] {
  const empty = () => new Float64Array(0);
  return {
    ts: empty(),
    open: empty(),
    high: empty(),
    low: empty(),
    close: empty(),
    volume: empty(),
    vwap: empty(),
    tradeCount: empty(),
  };
}

/**
 * Encoded chunks a stream holds ahead of a slow reader: one (Node's default for a stream of
 * objects is 16, which would keep 16 chunks of a slow client's answer in memory).
 */
export const ONE_CHUNK = { highWaterMark: 1 } as const;

/** The bars encoded in a streamed format, as a byte stream that reads a chunk at a time. */
export function encodeBars(format: StreamedFormat, chunks: AsyncIterable<SeriesRows>, withFills: boolean): Readable {
  if (format === 'ndjson') return Readable.from(ndjson(chunks, withFills), ONE_CHUNK);
  if (format === 'csv') return Readable.from(csv(chunks, withFills), ONE_CHUNK);
  const batches = Readable.from(arrow(chunks, withFills), ONE_CHUNK);
  const writer = RecordBatchStreamWriter.throughNode();
  batches.on('error', (error) => writer.destroy(error));
  return batches.pipe(writer);
}
