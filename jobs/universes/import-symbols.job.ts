import { importSymbolsContract } from '../../src/universes/import-symbols.contract.js';
import { parseSymbolsJson } from '../../src/universes/symbol-rows.js';
import { defineHandler } from '../handler.js';
import { runImport } from '../import-pipeline.js';

const looksLikeJson = (file: string | undefined, bytes: Uint8Array) => {
  if (file && /\.json(\.gz)?$/i.test(file)) return true;
  const first = bytes.find(
    (byte) => byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09 && byte !== 0xef && byte !== 0xbb && byte !== 0xbf,
  );
  return first === 0x5b || first === 0x7b;
};

/** import-symbols: symbol reference data, all or nothing (one bad row and nothing is written). */
export const importSymbolsHandler = defineHandler(importSymbolsContract, async (ctx, payload) => {
  const { parsed, stored } = await runImport(ctx, payload, {
    parse: async (read) => {
      if (payload.rows !== undefined) {
        const rows = parseSymbolsJson(payload.rows, payload.layout);
        return { ok: true as const, ...rows, rejectedCount: rows.rejected.length };
      }
      const bytes = await read();
      const format = payload.csv === undefined && looksLikeJson(payload.file, bytes) ? 'json' : 'csv';
      const result = await ctx.kernels.run(
        'parseSymbols',
        { bytes, format, layout: payload.layout },
        { transfer: [bytes.buffer as ArrayBuffer], signal: ctx.signal },
      );
      return result.ok ? { ...result, rejectedCount: result.rejected.length } : result;
    },
    usable: (parsed) => parsed.records.length,
    onInvalid: 'fail',
    parsedMessage: (parsed) => `validated ${parsed.records.length} rows (${parsed.layout} layout)`,
    store: (tx, parsed) => tx.symbols.upsert(parsed.records),
    storedMessage: (counts) => `stored: ${counts.inserted} new, ${counts.updated} updated, ${counts.unchanged} unchanged`,
  });
  const kinds: Record<string, number> = {};
  for (const record of parsed.records) kinds[record.kind ?? 'unspecified'] = (kinds[record.kind ?? 'unspecified'] ?? 0) + 1;
  return {
    layout: parsed.layout,
    rowsRead: parsed.rowsRead,
    ...stored,
    kinds,
    ignoredColumns: parsed.ignoredColumns,
  };
});
