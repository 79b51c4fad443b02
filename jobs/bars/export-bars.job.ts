import { exportBarsContract, type ExportedSymbol } from '../../src/bars/export-bars.contract.js';
import { exportFileName, writeExportFile, type SymbolRows } from '../../src/bars/export.js';
import { BarsQueryService } from '../../src/bars/query.js';
import { resolveRange } from '../../src/bars/ranges.js';
import { NYSE } from '../../src/shared/calendar.js';
import { InputError } from '../../src/shared/errors.js';
import { defineHandler } from '../handler.js';

/** Rows read from PostgreSQL per round trip of the cursor, and per Arrow batch or Parquet row group. */
export const EXPORT_CHUNK_ROWS = 50_000;
/** Progress is reported at most this often. */
const PROGRESS_EVERY_MS = 1_000;

/**
 * export-bars: the bars GET /api/bars answers (the same series, session cut and fills) for each
 * symbol, streamed from PostgreSQL a chunk at a time into one Arrow IPC or Parquet file in the
 * export directory. The file appears complete or not at all; the same payload writes the same file.
 */
export const exportBarsHandler = defineHandler(exportBarsContract, async (ctx, payload) => {
  const symbols = [...new Set(typeof payload.symbols === 'string' ? [payload.symbols] : payload.symbols)];
  const { symbols: _listed, format, ...query } = payload;
  const service = new BarsQueryService(ctx.store.barsReader, ctx.barsCache, { chunkRows: EXPORT_CHUNK_ROWS });
  const { from, to } = resolveRange(payload, payload.session, NYSE);
  const exported: ExportedSymbol[] = [];
  let reported = 0;

  /** Percent done: whole symbols, and the share of the current one's range up to its last bar so far. */
  const report = async (index: number, first: number, last: number, rows: number) => {
    if (Date.now() - reported < PROGRESS_EVERY_MS) return;
    reported = Date.now();
    const end = Math.min(to ?? Date.now(), Date.now());
    const start = from ?? first;
    const share = end > start ? Math.min(1, (last - start) / (end - start)) : 0;
    await ctx.progress((100 * (index + share)) / symbols.length, `${symbols[index]}: ${rows} rows written`, {
      symbol: symbols[index],
    });
  };

  async function* chunks(): AsyncGenerator<SymbolRows> {
    for (const [index, symbol] of symbols.entries()) {
      const streamed = await service.stream({ ...query, symbol });
      if (!streamed.found) throw new InputError(`symbols${symbols.length > 1 ? `.${index}` : ''}: ${streamed.reason}`);
      const entry: ExportedSymbol = { symbol, rows: 0, origin: streamed.origin, variant: streamed.variant };
      exported.push(entry);
      let first: number | undefined;
      for await (const rows of streamed.chunks) {
        ctx.signal.throwIfAborted();
        const count = rows.bars.ts.length;
        if (count === 0) continue;
        first ??= rows.bars.ts[0];
        entry.rows += count;
        yield { symbol, rows };
        await report(index, first, rows.bars.ts[count - 1], entry.rows);
      }
    }
  }

  const name = exportFileName({ ...query, symbols, format });
  await ctx.progress(0, `exporting ${symbols.length} symbols to ${name}`);
  const file = await writeExportFile(ctx.exportDir, name, format, chunks(), payload.fill === 'forward');
  const rows = exported.reduce((sum, entry) => sum + entry.rows, 0);
  await ctx.progress(100, `${rows} rows, ${file.bytes} bytes written to ${file.path}`);
  return { path: file.path, format, rows, bytes: file.bytes, symbols: exported };
});
