import { UnrecoverableError } from 'bullmq';
import { z } from 'zod';
import { upsertSymbols } from '../../src/universes/symbols.repository.js';
import { SYMBOL_LAYOUTS, parseSymbolsJson, type ParsedSymbols } from '../../src/universes/symbol-rows.js';
import { STANDARD_DEFAULTS, defineJob } from '../define.js';
import { MAX_INLINE_CSV, readImportSource } from '../import-pipeline.js';

/** Most rows a `rows` payload may carry; larger sets go through `file`. */
export const MAX_INLINE_ROWS = 20_000;
/** How many bad rows a failure message quotes (the result of a dry parse lists them all). */
const QUOTED_REJECTIONS = 20;

const payloadSchema = z
  .object({
    file: z.string().min(1).max(4096).optional().describe('path of a CSV or JSON file (optionally gzip) readable by the worker'),
    csv: z.string().min(1).max(MAX_INLINE_CSV).optional().describe('the CSV text itself'),
    rows: z
      .array(z.record(z.string(), z.unknown()))
      .min(1)
      .max(MAX_INLINE_ROWS)
      .optional()
      .describe('rows as objects with the tickforge field names'),
    layout: z
      .enum(['auto', ...SYMBOL_LAYOUTS])
      .default('auto')
      .describe('column layout: tickforge, sp500-constituents, us-etfs, or auto (recognised from the header)'),
  })
  .strict()
  .refine((p) => [p.file, p.csv, p.rows].filter((source) => source !== undefined).length === 1, {
    message: 'give exactly one of file, csv or rows',
    path: ['file'],
  });

export type ImportSymbolsPayload = z.input<typeof payloadSchema>;

const looksLikeJson = (file: string | undefined, bytes: Uint8Array) => {
  if (file && /\.json(\.gz)?$/i.test(file)) return true;
  const first = bytes.find(
    (byte) => byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09 && byte !== 0xef && byte !== 0xbb && byte !== 0xbf,
  );
  return first === 0x5b || first === 0x7b;
};

export const importSymbolsJob = defineJob({
  name: 'import-symbols',
  queue: 'ingest',
  description: 'Upsert symbol reference data (stocks, ETFs) from a CSV/JSON file, inline CSV or rows; all or nothing',
  schema: payloadSchema,
  defaults: STANDARD_DEFAULTS,
  async handle(ctx, payload) {
    let parsed: ParsedSymbols;
    if (payload.rows !== undefined) {
      parsed = parseSymbolsJson(payload.rows, payload.layout);
    } else {
      const owned = await readImportSource(ctx, payload, 10);
      const format = payload.csv === undefined && looksLikeJson(payload.file, owned) ? 'json' : 'csv';
      const result = await ctx.pool.run(
        'parseSymbols',
        { bytes: owned, format, layout: payload.layout },
        { transfer: [owned.buffer as ArrayBuffer], signal: ctx.signal },
      );
      if (!result.ok) throw new UnrecoverableError(`cannot import symbols: ${result.error}`);
      parsed = result;
    }
    if (parsed.rejected.length > 0) {
      const quoted = parsed.rejected
        .slice(0, QUOTED_REJECTIONS)
        .map((row) => `line ${row.line}: ${row.reason}`)
        .join('; ');
      const more = parsed.rejected.length > QUOTED_REJECTIONS ? `; and ${parsed.rejected.length - QUOTED_REJECTIONS} more` : '';
      throw new UnrecoverableError(
        `cannot import symbols: ${parsed.rejected.length} of ${parsed.rowsRead} rows are invalid, nothing was written (${quoted}${more})`,
      );
    }
    if (parsed.records.length === 0) throw new UnrecoverableError('cannot import symbols: the input has no rows');
    await ctx.progress(50, `validated ${parsed.records.length} rows (${parsed.layout} layout)`);
    ctx.signal.throwIfAborted();

    const counts = await ctx.db.transaction((trx) => upsertSymbols(trx, parsed.records));
    await ctx.progress(100, `stored: ${counts.inserted} new, ${counts.updated} updated, ${counts.unchanged} unchanged`);
    const kinds: Record<string, number> = {};
    for (const record of parsed.records) kinds[record.kind ?? 'unspecified'] = (kinds[record.kind ?? 'unspecified'] ?? 0) + 1;
    return {
      layout: parsed.layout,
      rowsRead: parsed.rowsRead,
      ...counts,
      kinds,
      ignoredColumns: parsed.ignoredColumns,
    };
  },
});
