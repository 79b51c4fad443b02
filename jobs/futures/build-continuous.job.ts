import { UnrecoverableError } from 'bullmq';
import { z } from 'zod';
import { FuturesRepository, type ContractRow, type DailyBarRow } from '../../src/futures/futures.repository.js';
import { barsFromRows } from '../../src/bars/columns.js';
import { NYSE } from '../../src/shared/calendar.js';
import { continuousInputBuffers, type ContractData } from '../../src/futures/continuous.js';
import {
  ADJUSTMENTS,
  DEFAULT_ROLL_OFFSET,
  ROLL_POLICIES,
  ROOT_PATTERN,
  ROOT_SPECS,
  missingFromCycle,
  parseContractCode,
  seriesSymbol,
  sessionOnOrBefore,
} from '../../src/futures/contract-codes.js';
import { localDate, localMidnight } from '../../src/shared/zone.js';
import { CHANNELS } from '../../src/notify/channels.js';
import { STANDARD_DEFAULTS, defineJob } from '../define.js';

export const rollPolicySchema = z.enum(ROLL_POLICIES).describe('calendar, volume or open_interest');
export const adjustmentSchema = z.enum(ADJUSTMENTS).describe('none, difference or ratio');
export const rollOffsetSchema = z
  .number()
  .int('must be a whole number of sessions')
  .min(0)
  .max(60)
  .describe('sessions before the last trade date (or first notice date) at which the roll happens or is forced');

export const rootSchema = z.string().regex(ROOT_PATTERN, 'must be a futures root: 1-4 upper-case letters or digits, such as ES');

const payloadSchema = z
  .object({
    root: rootSchema,
    roll: rollPolicySchema,
    rollOffset: rollOffsetSchema.default(DEFAULT_ROLL_OFFSET),
    adjust: adjustmentSchema,
  })
  .strict();

export type BuildContinuousPayload = z.input<typeof payloadSchema>;

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

export const buildContinuousJob = defineJob({
  name: 'build-continuous',
  queue: 'futures',
  description: 'Build (or rebuild) a continuous futures series with its roll events from the stored contracts',
  schema: payloadSchema,
  defaults: STANDARD_DEFAULTS,
  async handle(ctx, payload) {
    const { root, roll, rollOffset, adjust } = payload;
    const series = seriesSymbol(root, roll, rollOffset, adjust);
    const futures = new FuturesRepository(ctx.db, ctx.schema);
    const contracts = await futures.contractsOf(root);
    if (contracts.length === 0)
      throw new UnrecoverableError(`no futures contracts of root ${root} are stored: run import-futures first`);
    const rows = await futures.dailyBars(contracts.map((c) => c.contract));
    if (rows.length === 0)
      throw new UnrecoverableError(
        `the ${contracts.length} contracts of root ${root} have no daily bars: run import-futures first`,
      );
    const interest = await futures.openInterest(contracts.map((c) => c.contract));
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
    if (sessions.length === 0) throw new UnrecoverableError(`the bars of root ${root} fall on no ${NYSE.name} session`);
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
    const built = await ctx.pool.run('continuous', input, { transfer: continuousInputBuffers(input), signal: ctx.signal });
    if (!built.ok) throw new UnrecoverableError(`cannot build ${series}: ${built.error}`);
    if (built.bars === 0) {
      throw new UnrecoverableError(
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
    const report = {
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
    const written = await ctx.db.transaction(async (trx) => {
      await trx.withSchema(ctx.schema).table('symbols').insert({ symbol: series, kind: 'future' }).onConflict('symbol').ignore();
      return futures.replaceSeries(
        trx,
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
        built.copy,
        built.rolls,
      );
    });
    await ctx.progress(90, `stored ${written.written} bars of ${series} (replacing ${written.removed})`);

    const iso = (ts: number | undefined) => (ts === undefined ? null : new Date(ts).toISOString());
    await ctx.publisher.publish(
      CHANNELS.barsUpdated,
      {
        symbol: series,
        timeframe: '1d',
        variant: '',
        from: iso(built.from),
        to: iso(built.to),
        rows: built.bars,
        rolls: built.rolls.length,
      },
      ctx.job.id,
    );
    await ctx.progress(100);
    return {
      series,
      root,
      roll,
      rollOffset,
      adjust,
      bars: built.bars,
      replaced: written.removed,
      from: iso(built.from),
      to: iso(built.to),
      rolls: built.rolls,
      ...report,
    };
  },
});
