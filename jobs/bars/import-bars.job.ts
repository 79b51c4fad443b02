import { importBarsContract } from '../../src/bars/import-bars.contract.js';
import { defineHandler } from '../handler.js';
import { runImport } from '../import-pipeline.js';

/** import-bars: OHLCV bars from a CSV file or inline CSV into `bars` (variant ''). */
export const importBarsHandler = defineHandler(importBarsContract, async (ctx, payload) => {
  const { parsed, stored } = await runImport(ctx, payload, {
    parse: async (read) => {
      const nonPositiveAllowed = await ctx.store.symbols.withNonPositivePrices();
      const bytes = await read();
      return ctx.kernels.run(
        'parseBars',
        { bytes, options: { timeframe: payload.timeframe, timeZone: payload.timeZone, symbol: payload.symbol, nonPositiveAllowed } },
        { transfer: [bytes.buffer as ArrayBuffer], signal: ctx.signal },
      );
    },
    usable: (parsed) => parsed.accepted,
    onInvalid: payload.onInvalid,
    parsedMessage: (parsed) => `parsed ${parsed.rowsRead} rows: ${parsed.accepted} valid, ${parsed.rejectedCount} rejected`,
    store: async (tx, parsed) => {
      await tx.symbols.ensure(parsed.series.map((s) => ({ symbol: s.symbol })));
      return tx.bars.upsertCopy(parsed.copy, 'binary');
    },
    storedMessage: (counts) => `stored: ${counts.written} rows written, ${counts.unchanged} already stored`,
    written: (parsed) =>
      parsed.series.map((s) => ({
        symbol: s.symbol,
        timeframe: payload.timeframe,
        variant: '',
        rows: s.rows,
        from: s.from,
        to: s.to,
      })),
  });
  return {
    timeframe: payload.timeframe,
    symbols: parsed.series.map((s) => ({
      symbol: s.symbol,
      rows: s.rows,
      from: new Date(s.from).toISOString(),
      to: new Date(s.to).toISOString(),
    })),
    rowsRead: parsed.rowsRead,
    accepted: parsed.accepted,
    ...stored,
    duplicates: parsed.duplicates,
    rejectedCount: parsed.rejectedCount,
    rejected: parsed.rejected,
    ignoredColumns: parsed.ignoredColumns,
  };
});
