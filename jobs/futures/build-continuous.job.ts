import type { ContractRow, DailyBarRow } from '../../src/futures/futures.repository.js';
import { InputError } from '../../src/shared/errors.js';
import { barsFromRows } from '../../src/bars/columns.js';
import { NYSE } from '../../src/shared/calendar.js';
import { continuousInputBuffers, type ContractData } from '../../src/futures/continuous.js';
import {
  ROOT_SPECS,
  missingFromCycle,
  parseContractCode,
  seriesSymbol,
  sessionOnOrBefore,
} from '../../src/futures/contract-codes.js';
import { localDate, localMidnight } from '../../src/shared/zone.js';
import { buildContinuousContract, type ContinuousReport } from '../../src/futures/build-continuous.contract.js';
import { defineHandler } from '../handler.js';

/** Most gaps listed in a result (all are counted). */
const MAX_GAPS_LISTED = 50;

/** Columnar bars of one contract from its stored rows (ordered by ts). */
function columns(rows: DailyBarRow[]): ContractData['bars'] {
  return barsFromRows(rows, (row) => row.ts.getTime());
}

/**
 * The first session (as an index from `start`) the series may not hold the contract on: the
 * roll offset counted back from its last trade date, or first notice date when earlier.
 */
function deadlineOf(contract: ContractRow, rollOffset: number, start: number): number {
  const limit =
    contract.first_notice_date !== null && contract.first_notice_date < contract.last_trade_date
      ? contract.first_notice_date
      : contract.last_trade_date;
  // Beyond the calendar is beyond any window of stored bars: never reached.
  if (limit > NYSE.range.last) return Number.MAX_SAFE_INTEGER;
  return NYSE.session(sessionOnOrBefore(limit, NYSE))!.index - rollOffset - start;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group) group.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
}

/** Contracts of the root's listing cycle that are missing between stored ones. */
function missingContracts(chain: ContractRow[]): Array<{ after: string; before: string; missing: string[] }> {
  const spec = ROOT_SPECS.get(chain[0]?.root ?? '');
  if (!spec) return [];
  const out: Array<{ after: string; before: string; missing: string[] }> = [];
  for (let i = 1; i < chain.length; i++) {
    const missing = missingFromCycle(parseContractCode(chain[i - 1].contract), parseContractCode(chain[i].contract), spec.cycle);
    if (missing.length > 0) out.push({ after: chain[i - 1].contract, before: chain[i].contract, missing });
  }
  return out;
}

/** build-continuous: (re)builds a continuous futures series with its roll events from the stored contracts. */
export const buildContinuousHandler = defineHandler(buildContinuousContract, async (ctx, payload) => {
  const { root, roll, rollOffset, adjust } = payload;
  const series = seriesSymbol(root, roll, rollOffset, adjust);
  const contracts = await ctx.store.futures.contractsOf(root);
  if (contracts.length === 0) throw new InputError(`no futures contracts of root ${root} are stored: run import-futures first`);
  const rows = await ctx.store.futures.dailyBars(contracts.map((c) => c.contract));
  if (rows.length === 0)
    throw new InputError(`the ${contracts.length} contracts of root ${root} have no daily bars: run import-futures first`);
  const interest = await ctx.store.futures.openInterest(contracts.map((c) => c.contract));
  await ctx.progress(30, `read ${contracts.length} contracts, ${rows.length} bars, ${interest.length} open interest figures`);
  ctx.signal.throwIfAborted();

  const zone = NYSE.timeZone;
  let first = Infinity;
  let last = -Infinity;
  for (const row of rows) {
    first = Math.min(first, row.ts.getTime());
    last = Math.max(last, row.ts.getTime());
  }
  const sessions = NYSE.sessionsBetween(localDate(first, zone), localDate(last, zone));
  if (sessions.length === 0) throw new InputError(`the bars of root ${root} fall on no ${NYSE.name} session`);
  const sessionDates = sessions.map((s) => s.date);
  const start = sessions[0].index;
  // Contracts that expired before the window can never be held; leaving them out keeps the chain readable.
  const chain = contracts.filter((c) => c.last_trade_date >= sessionDates[0]);
  const rowsBy = groupBy(rows, (row) => row.symbol);
  const interestBy = groupBy(interest, (row) => row.contract);
  const input = {
    series,
    sessionDates,
    sessionTs: Float64Array.from(sessionDates, (date) => localMidnight(date, zone)),
    contracts: chain.map((c): ContractData => {
      const figures = interestBy.get(c.contract) ?? [];
      return {
        contract: c.contract,
        deadline: deadlineOf(c, rollOffset, start),
        bars: columns(rowsBy.get(c.contract) ?? []),
        openInterestTs: Float64Array.from(figures, (f) => localMidnight(f.date, zone)),
        openInterest: Float64Array.from(figures, (f) => f.open_interest),
      };
    }),
    roll,
    adjust,
  };
  const built = await ctx.kernels.run('continuous', input, { transfer: continuousInputBuffers(input), signal: ctx.signal });
  if (!built.ok) throw new InputError(`cannot build ${series}: ${built.error}`);
  if (built.bars === 0) {
    throw new InputError(
      `cannot build ${series}: no stored bar of root ${root} falls before its contract's roll date ${rollOffset} sessions ahead of expiry; lower rollOffset or import more history`,
    );
  }
  await ctx.progress(60, `found ${built.rolls.length} rolls; ${built.bars} bars`);
  ctx.signal.throwIfAborted();

  const fallback =
    roll === 'open_interest'
      ? {
          sessions: built.fallbackDates.length,
          first: built.fallbackDates[0] ?? null,
          last: built.fallbackDates.at(-1) ?? null,
        }
      : undefined;
  const report: ContinuousReport = {
    window: { from: sessionDates[0], to: sessionDates.at(-1)!, sessions: sessionDates.length },
    held: built.held,
    rollsWithIssues: built.rolls.filter((r) => r.issue !== null).length,
    gapCount: built.gaps.length,
    gapSessions: built.gaps.reduce((n, g) => n + g.sessions, 0),
    gaps: built.gaps.slice(0, MAX_GAPS_LISTED),
    ...(fallback ? { openInterestFallback: fallback } : {}),
    missingContracts: missingContracts(chain),
    offSessionBars: built.offSessionBars.map((b) => ({ contract: b.contract, date: localDate(b.ts, zone) })),
  };
  const removed = await ctx.store.transaction(async (tx) => {
    await tx.futures.lockSeries(series);
    await tx.symbols.ensure([{ symbol: series, kind: 'future' }]);
    const replaced = await tx.bars.replaceSeries({ symbol: series, timeframe: '1d', variant: '' }, built.copy);
    await tx.futures.saveSeries(
      {
        symbol: series,
        root,
        roll,
        roll_offset: rollOffset,
        adjust,
        timeframe: '1d',
        contracts: built.held.map((h) => h.contract),
        bars: built.bars,
        first_date: built.from === undefined ? null : localDate(built.from, zone),
        last_date: built.to === undefined ? null : localDate(built.to, zone),
        job_id: ctx.job.id,
        report,
      },
      built.rolls,
    );
    return replaced;
  });
  await ctx.progress(90, `stored ${built.bars} bars of ${series} (replacing ${removed})`);
  await ctx.events.barsWritten([
    { symbol: series, timeframe: '1d', variant: '', rows: built.bars, from: built.from, to: built.to },
  ]);

  const iso = (ts: number | undefined) => (ts === undefined ? null : new Date(ts).toISOString());
  await ctx.progress(100);
  return {
    series,
    root,
    roll,
    rollOffset,
    adjust,
    bars: built.bars,
    replaced: removed,
    from: iso(built.from),
    to: iso(built.to),
    rolls: built.rolls,
    ...report,
  };
});
