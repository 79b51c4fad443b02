import { UnrecoverableError } from 'bullmq';
import { z } from 'zod';
import { BarsRepository } from '../../src/bars/bars.repository.js';
import { symbolSchema } from '../../src/shared/symbols.js';
import { timeframeSchema } from '../../src/bars/timeframes.js';
import { assertTimeZone } from '../../src/shared/zone.js';
import { CHANNELS } from '../../src/notify/channels.js';
import { STANDARD_DEFAULTS, defineJob } from '../define.js';
import { importPayloadSchema, readImportSource, refuseUnusableImport } from '../import-pipeline.js';

export const timeZoneSchema = z
  .string()
  .max(64)
  .refine((zone) => {
    try {
      assertTimeZone(zone);
      return true;
    } catch {
      return false;
    }
  }, 'must be an IANA time zone such as America/New_York');

const payloadSchema = importPayloadSchema({
  symbol: symbolSchema.optional().describe('the series symbol; omit when the file has a symbol column'),
  timeframe: timeframeSchema,
  timeZone: timeZoneSchema.default('America/New_York').describe('zone of timestamps without an offset'),
});

export type ImportBarsPayload = z.input<typeof payloadSchema>;

export const importBarsJob = defineJob({
  name: 'import-bars',
  queue: 'ingest',
  description: 'Import OHLCV bars from a CSV file or inline CSV; bad rows are listed with their line and reason',
  schema: payloadSchema,
  defaults: STANDARD_DEFAULTS,
  async handle(ctx, payload) {
    const owned = await readImportSource(ctx, payload, 5);
    const parsed = await ctx.pool.run(
      'parseBars',
      { bytes: owned, options: { timeframe: payload.timeframe, timeZone: payload.timeZone, symbol: payload.symbol } },
      { transfer: [owned.buffer as ArrayBuffer], signal: ctx.signal },
    );
    if (!parsed.ok) throw new UnrecoverableError(`cannot import: ${parsed.error}`);
    refuseUnusableImport(parsed, parsed.accepted, payload.onInvalid);
    await ctx.progress(50, `parsed ${parsed.rowsRead} rows: ${parsed.accepted} valid, ${parsed.rejectedCount} rejected`);
    ctx.signal.throwIfAborted();

    const bars = new BarsRepository(ctx.db, ctx.schema);
    const counts = await ctx.db.transaction(async (trx) => {
      await trx('symbols')
        .insert(parsed.series.map((s) => ({ symbol: s.symbol })))
        .onConflict('symbol')
        .ignore();
      return bars.upsertCopy(trx, parsed.copy);
    });
    await ctx.progress(90, `stored: ${counts.written} rows written, ${counts.unchanged} already stored`);

    // Per symbol the cache version moves before the announcement; symbols go concurrently, so a
    // 500-symbol file costs a few round trips rather than a thousand.
    await Promise.all(
      parsed.series.map(async (series) => {
        await ctx.barsCache.bump(series.symbol, payload.timeframe);
        await ctx.publisher.publish(
          CHANNELS.barsUpdated,
          {
            symbol: series.symbol,
            timeframe: payload.timeframe,
            variant: '',
            from: new Date(series.from).toISOString(),
            to: new Date(series.to).toISOString(),
            rows: series.rows,
          },
          ctx.job.id,
        );
      }),
    );
    await ctx.progress(100);
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
      ...counts,
      duplicates: parsed.duplicates,
      rejectedCount: parsed.rejectedCount,
      rejected: parsed.rejected,
      ignoredColumns: parsed.ignoredColumns,
    };
  },
});
