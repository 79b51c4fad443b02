import { importBarsContract, type ImportBarsResult } from '../../src/bars/import-bars.contract.js';
import { startBarsParse, type BarsParseState, type BarsParseSummary, type ParseBarsOptions } from '../../src/bars/csv.js';
import type { ChunkSeries } from '../../src/bars/parse-bars.task.js';
import type { UpsertCounts } from '../../src/bars/bars.repository.js';
import { InputError } from '../../src/shared/errors.js';
import type { Store } from '../../src/store/store.js';
import type { JobContext } from '../context.js';
import { defineHandler } from '../handler.js';
import { importChunks, refuseUnusableImport } from '../import-pipeline.js';

/** Bytes of CSV parsed per pool task: large enough that a task's overhead is noise, small enough to keep memory flat. */
const CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * Where a chunk's rows go: straight into `bars` with COPY when no stored bar of its series lies
 * in its range (a first import, or one that only extends a series), else into the staging table
 * for the one INSERT … ON CONFLICT at the end. Rows of one import never overlap each other
 * (each series ascends), so a direct COPY cannot collide with a later chunk.
 */
class ChunkWriter {
  copied = 0;
  private staged = false;

  constructor(
    private readonly tx: Store,
    private readonly timeframe: ParseBarsOptions['timeframe'],
  ) {}

  async write(copy: Uint8Array, series: ChunkSeries[]): Promise<void> {
    const key = { timeframe: this.timeframe, variant: '' };
    if (await this.tx.bars.holdsAny(series.map((s) => ({ ...key, symbol: s.symbol, from: s.from, to: s.to })))) {
      await this.tx.bars.stage(copy, 'binary');
      this.staged = true;
    } else {
      await this.tx.bars.copyRows(copy);
      this.copied += series.reduce((sum, s) => sum + s.rows, 0);
    }
  }

  async finish(): Promise<UpsertCounts> {
    const merged = this.staged ? await this.tx.bars.mergeStaged() : { written: 0, unchanged: 0 };
    return { written: this.copied + merged.written, unchanged: merged.unchanged };
  }
}

/**
 * Streams the source through parse and check in the pool, chunk by chunk, and COPYs each
 * chunk's rows while the next one is parsed; all in the caller's transaction, so a refusal at
 * the end (any bad row under `fail`, no usable row, a file of another timeframe) leaves nothing.
 */
async function streamImport(
  ctx: JobContext,
  tx: Store,
  payload: { file?: string; csv?: string; onInvalid: 'skip' | 'fail' },
  options: ParseBarsOptions,
): Promise<{ summary: BarsParseSummary; stored: UpsertCounts }> {
  const writer = new ChunkWriter(tx, options.timeframe);
  let state: BarsParseState = startBarsParse();
  let rest: Uint8Array = new Uint8Array(0);
  let writing: Promise<void> = Promise.resolve();
  const parse = async (bytes: Uint8Array, final: boolean) => {
    // The unread rest, then the new bytes, in a buffer of its own so it can be transferred.
    const input = rest.length === 0 ? bytes : new Uint8Array(rest.length + bytes.length);
    if (input !== bytes) {
      input.set(rest);
      input.set(bytes, rest.length);
    }
    const parsed = await ctx.kernels.run(
      'parseBars',
      { bytes: input, final, state, options },
      { transfer: [input.buffer as ArrayBuffer], signal: ctx.signal },
    );
    if (!parsed.ok) throw new InputError(`cannot import: ${parsed.error}`);
    ({ state, rest } = parsed);
    await writing;
    // Under `fail` one bad row dooms the import: copying more would only be rolled back.
    if (parsed.copy.length > 0 && !(payload.onInvalid === 'fail' && state.rejectedCount > 0)) {
      writing = writer.write(parsed.copy, parsed.series);
      writing.catch(() => undefined);
    }
    return parsed.summary;
  };
  let summary: BarsParseSummary;
  try {
    for await (const chunk of importChunks(ctx, payload, CHUNK_BYTES)) {
      await parse(chunk.bytes, false);
      await ctx.progress(Math.round(5 + 80 * chunk.share), `read ${Math.round(100 * chunk.share)} % of ${payload.file ?? 'the payload'}`);
    }
    summary = (await parse(new Uint8Array(0), true))!;
  } finally {
    // A write still in flight ends before the transaction does, whichever way it ends.
    await writing;
  }
  refuseUnusableImport(summary, summary.accepted, payload.onInvalid);
  await ctx.progress(85, `parsed ${summary.rowsRead} rows: ${summary.accepted} valid, ${summary.rejectedCount} rejected`);
  await tx.symbols.ensure(summary.series.map((s) => ({ symbol: s.symbol })));
  return { summary, stored: await writer.finish() };
}

/** import-bars: OHLCV bars from a CSV file or inline CSV into `bars` (variant ''). */
export const importBarsHandler = defineHandler(importBarsContract, async (ctx, payload): Promise<ImportBarsResult> => {
  const nonPositiveAllowed = await ctx.store.symbols.withNonPositivePrices();
  const options = { timeframe: payload.timeframe, timeZone: payload.timeZone, symbol: payload.symbol, nonPositiveAllowed };
  const { summary, stored } = await ctx.store.transaction((tx) => streamImport(ctx, tx, payload, options));
  await ctx.progress(90, `stored: ${stored.written} rows written, ${stored.unchanged} already stored`);
  await ctx.events.barsWritten(
    summary.series.map((s) => ({ symbol: s.symbol, timeframe: payload.timeframe, variant: '', rows: s.rows, from: s.from, to: s.to })),
  );
  await ctx.progress(100);
  return {
    timeframe: payload.timeframe,
    symbols: summary.series.map((s) => ({
      symbol: s.symbol,
      rows: s.rows,
      from: new Date(s.from).toISOString(),
      to: new Date(s.to).toISOString(),
    })),
    rowsRead: summary.rowsRead,
    accepted: summary.accepted,
    ...stored,
    duplicates: summary.duplicates,
    rejectedCount: summary.rejectedCount,
    rejected: summary.rejected,
    ignoredColumns: summary.ignoredColumns,
  };
});
