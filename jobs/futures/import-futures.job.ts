import { UnrecoverableError } from 'bullmq';
import { z } from 'zod';
import { BarsRepository } from '../../src/bars/bars.repository.js';
import { FuturesRepository } from '../../src/futures/futures.repository.js';
import { NYSE } from '../../src/shared/calendar.js';
import { NON_SESSION_POLICIES } from '../../src/futures/csv.js';
import { CHANNELS } from '../../src/notify/channels.js';
import type { ParsedContractSummary } from '../../src/futures/parse-futures.task.js';
import { STANDARD_DEFAULTS, defineJob } from '../define.js';
import { importPayloadSchema, readImportSource, refuseUnusableImport } from '../import-pipeline.js';

const payloadSchema = importPayloadSchema({
  nonSessionRows: z
    .enum(NON_SESSION_POLICIES)
    .default('merge')
    .describe('rows dated on a day that is not a session: merge into the next session (its CME trade date) or reject'),
});

export type ImportFuturesPayload = z.input<typeof payloadSchema>;

const iso = (ts: number | undefined) => (ts === undefined ? null : new Date(ts).toISOString());

/** Sentences that make the import's judgement calls visible in its result. */
function notesOf(contracts: ParsedContractSummary[], merged: number, openInterestOnly: number): string[] {
  const notes: string[] = [];
  const byRule = new Map<string, string[]>();
  for (const c of contracts) {
    if (c.expiryDerived) byRule.set(c.expiryRule!, [...(byRule.get(c.expiryRule!) ?? []), c.contract]);
  }
  for (const [rule, codes] of byRule) {
    notes.push(`last trade date not in the file, derived for ${codes.join(', ')} from the rule ${rule}`);
  }
  if (merged > 0) {
    notes.push(
      `${merged} rows are dated on days that are not ${NYSE.name} sessions (Sunday-evening or holiday trading); each was merged into the next session, the CME trade date that trading belongs to (listed in nonSessionRows.rows)`,
    );
  }
  if (openInterestOnly > 0) {
    notes.push(`${openInterestOnly} rows carry open interest but no prices: their open interest is stored, no bar is`);
  }
  return notes;
}

export const importFuturesJob = defineJob({
  name: 'import-futures',
  queue: 'ingest',
  description: 'Import futures contracts with their daily bars and open interest from a CSV by contract',
  schema: payloadSchema,
  defaults: STANDARD_DEFAULTS,
  async handle(ctx, payload) {
    const owned = await readImportSource(ctx, payload, 5);
    const parsed = await ctx.pool.run(
      'parseFutures',
      { bytes: owned, nonSessionRows: payload.nonSessionRows },
      { transfer: [owned.buffer as ArrayBuffer], signal: ctx.signal },
    );
    if (!parsed.ok) throw new UnrecoverableError(`cannot import: ${parsed.error}`);
    refuseUnusableImport(parsed, parsed.rowsUsed, payload.onInvalid);
    await ctx.progress(
      50,
      `parsed ${parsed.rowsRead} rows: ${parsed.contracts.length} contracts, ${parsed.rejectedCount} rows rejected`,
    );
    ctx.signal.throwIfAborted();

    const futures = new FuturesRepository(ctx.db, ctx.schema);
    const bars = new BarsRepository(ctx.db, ctx.schema);
    const barRows = parsed.contracts.reduce((n, c) => n + c.bars, 0);
    const interestRows = parsed.contracts.reduce((n, c) => n + c.openInterest, 0);
    const stored = await ctx.db.transaction(async (trx) => {
      await trx
        .withSchema(ctx.schema)
        .table('symbols')
        .insert(parsed.contracts.map((c) => ({ symbol: c.contract, kind: 'future' })))
        .onConflict('symbol')
        .ignore();
      const contracts = await futures.upsertContracts(
        trx,
        parsed.contracts.map((c) => ({
          contract: c.contract,
          root: c.root,
          month_code: c.monthCode,
          contract_month: c.contractMonth,
          last_trade_date: c.lastTradeDate,
          first_notice_date: c.firstNoticeDate,
          expiry_derived: c.expiryDerived,
          expiry_rule: c.expiryRule,
        })),
      );
      const barCounts = barRows > 0 ? await bars.upsertCopy(trx, parsed.barsCopy) : { written: 0, unchanged: 0 };
      const interest = await futures.upsertOpenInterest(trx, parsed.openInterestCopy, interestRows);
      return { contracts, bars: barCounts, openInterest: interest };
    });
    await ctx.progress(90, `stored ${parsed.contracts.length} contracts, ${stored.bars.written} bars written`);

    for (const c of parsed.contracts.filter((contract) => contract.bars > 0)) {
      await ctx.publisher.publish(
        CHANNELS.barsUpdated,
        { symbol: c.contract, timeframe: '1d', variant: '', from: iso(c.from), to: iso(c.to), rows: c.bars },
        ctx.job.id,
      );
    }
    await ctx.progress(100);
    return {
      contracts: parsed.contracts.map((c) => ({
        contract: c.contract,
        root: c.root,
        contractMonth: c.contractMonth.slice(0, 7),
        lastTradeDate: c.lastTradeDate,
        firstNoticeDate: c.firstNoticeDate,
        expiryDerived: c.expiryDerived,
        expiryRule: c.expiryRule,
        bars: c.bars,
        openInterest: c.openInterest,
        from: iso(c.from),
        to: iso(c.to),
      })),
      rowsRead: parsed.rowsRead,
      rowsUsed: parsed.rowsUsed,
      duplicates: parsed.duplicates,
      stored: {
        contracts: stored.contracts,
        bars: { rows: barRows, ...stored.bars },
        openInterest: { rows: interestRows, ...stored.openInterest },
      },
      nonSessionRows: { policy: payload.nonSessionRows, count: parsed.mergedCount, rows: parsed.merged },
      openInterestOnly: parsed.openInterestOnly,
      rejectedCount: parsed.rejectedCount,
      rejected: parsed.rejected,
      ignoredColumns: parsed.ignoredColumns,
      notes: notesOf(parsed.contracts, parsed.mergedCount, parsed.openInterestOnly),
    };
  },
});
