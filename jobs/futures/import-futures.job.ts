import type { ParsedContractSummary } from '../../src/futures/parse-futures.task.js';
import { importFuturesContract } from '../../src/futures/import-futures.contract.js';
import { NYSE } from '../../src/shared/calendar.js';
import { defineHandler } from '../handler.js';
import { runImport } from '../import-pipeline.js';

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

/** import-futures: contracts with their daily bars and open interest, from a CSV by contract. */
export const importFuturesHandler = defineHandler(importFuturesContract, async (ctx, payload) => {
  const { parsed, stored } = await runImport(ctx, payload, {
    parse: async (read) => {
      const bytes = await read();
      return ctx.kernels.run(
        'parseFutures',
        { bytes, nonSessionRows: payload.nonSessionRows },
        { transfer: [bytes.buffer as ArrayBuffer], signal: ctx.signal },
      );
    },
    usable: (parsed) => parsed.rowsUsed,
    onInvalid: payload.onInvalid,
    parsedMessage: (parsed) =>
      `parsed ${parsed.rowsRead} rows: ${parsed.contracts.length} contracts, ${parsed.rejectedCount} rows rejected`,
    store: async (tx, parsed) => {
      const barRows = parsed.contracts.reduce((n, c) => n + c.bars, 0);
      const interestRows = parsed.contracts.reduce((n, c) => n + c.openInterest, 0);
      await tx.symbols.ensure(parsed.contracts.map((c) => ({ symbol: c.contract, kind: 'future' as const })));
      const contracts = await tx.futures.upsertContracts(
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
      const bars = barRows > 0 ? await tx.bars.upsertCopy(parsed.barsCopy) : { written: 0, unchanged: 0 };
      const openInterest = await tx.futures.upsertOpenInterest(parsed.openInterestCopy, interestRows);
      return {
        contracts,
        bars: { rows: barRows, ...bars },
        openInterest: { rows: interestRows, ...openInterest },
      };
    },
    storedMessage: (stored) =>
      `stored ${stored.contracts.written + stored.contracts.unchanged} contracts, ${stored.bars.written} bars written`,
    written: (parsed) =>
      parsed.contracts
        .filter((c) => c.bars > 0)
        .map((c) => ({ symbol: c.contract, timeframe: '1d' as const, variant: '', rows: c.bars, from: c.from, to: c.to })),
  });
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
    stored,
    nonSessionRows: { policy: payload.nonSessionRows, count: parsed.mergedCount, rows: parsed.merged },
    openInterestOnly: parsed.openInterestOnly,
    rejectedCount: parsed.rejectedCount,
    rejected: parsed.rejected,
    ignoredColumns: parsed.ignoredColumns,
    notes: notesOf(parsed.contracts, parsed.mergedCount, parsed.openInterestOnly),
  };
});
