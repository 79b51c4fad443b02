import { UnrecoverableError } from 'bullmq';
import pMap from 'p-map';
import { z } from 'zod';
import { BarsReader } from '../../src/bars/bars.reader.js';
import { BarsRepository } from '../../src/bars/bars.repository.js';
import { canDerive, derivableTargets, variantOf } from '../../src/bars/aggregate.js';
import { concatBars, isEmptyBarPage } from '../../src/bars/pages.js';
import { allocateBars, barBuffers, type BarColumns } from '../../src/bars/columns.js';
import { NYSE } from '../../src/shared/calendar.js';
import { emptyGapReport, mergeGapReports, type GapReport } from '../../src/bars/gaps.js';
import { rangeBoundSchema, resolveBound } from '../../src/bars/ranges.js';
import { ALIGNMENTS, SESSION_MODES, periodBounds } from '../../src/bars/sessions.js';
import { symbolSchema } from '../../src/shared/symbols.js';
import { INTRADAY_MINUTES, TIMEFRAMES, timeframeRank, timeframeSchema, type Timeframe } from '../../src/bars/timeframes.js';
import { CHANNELS } from '../../src/notify/channels.js';
import type { ChunkPlan, TimeframeCount } from '../../src/bars/aggregate-chunk.task.js';
import { STANDARD_DEFAULTS, defineJob, type JobContext } from '../define.js';

/** Base bars read per round trip by default: about a year of one symbol's regular-session minutes. */
export const PAGE_ROWS = 100_000;
/** Gappy sessions listed per symbol in the result (all are counted). */
export const GAPPY_SESSIONS_LISTED = 20;
/** Symbols aggregated at once, each in its own transaction on its own connection. */
const MAX_PARALLEL_SYMBOLS = 4;

const payloadSchema = z
  .object({
    symbols: z
      .union([symbolSchema, z.array(symbolSchema).min(1).max(10_000)])
      .optional()
      .describe('one symbol or a list; omitted: every symbol with source bars in the range'),
    source: timeframeSchema.default('1m').describe('timeframe of the base bars'),
    sourceVariant: z.string().max(64).default('').describe("variant of the base series; '' (stored as they came) by default"),
    targets: z
      .array(timeframeSchema)
      .min(1)
      .max(TIMEFRAMES.length)
      .optional()
      .describe('timeframes to build; default every one the source allows'),
    from: rangeBoundSchema.optional().describe('date or instant; default: the day of the first stored base bar'),
    to: rangeBoundSchema
      .optional()
      .describe('date (inclusive) or instant (exclusive); default: the end of the day of the last stored base bar'),
    session: z.enum(SESSION_MODES).default('regular'),
    alignment: z.enum(ALIGNMENTS).default('session'),
    fill: z
      .enum(['none', 'forward'])
      .default('none')
      .describe('forward: store fill bars (source fill) in missing intraday slots'),
    pageRows: z
      .number()
      .int()
      .min(1_000)
      .max(1_000_000)
      .default(PAGE_ROWS)
      .describe('base bars read per round trip (memory per symbol)'),
  })
  .strict()
  .superRefine((payload, context) => {
    for (const [i, target] of (payload.targets ?? []).entries()) {
      if (!canDerive(payload.source, target)) {
        context.addIssue({
          code: 'custom',
          path: ['targets', i],
          message: `${target} cannot be built from ${payload.source}; from ${payload.source}: ${derivableTargets(payload.source).join(', ') || 'nothing'}`,
        });
      }
    }
    if (!payload.targets && derivableTargets(payload.source).length === 0) {
      context.addIssue({ code: 'custom', path: ['source'], message: `nothing can be built from ${payload.source} bars` });
    }
  });

export type AggregateBarsPayload = z.input<typeof payloadSchema>;
type Payload = z.output<typeof payloadSchema>;

/** Per symbol: what was read, built and written, and the gaps of the base series. */
export interface SymbolResult {
  symbol: string;
  from?: string;
  to?: string;
  sourceBars: number;
  timeframes: Partial<Record<Timeframe, TimeframeCount>>;
  written: number;
  unchanged: number;
  gaps: GapReport;
}

/** What one run covers: resolved once, the same for every symbol. */
interface Run {
  payload: Payload;
  targets: Timeframe[];
  chunkTargets: Timeframe[];
  finalTargets: Timeframe[];
  from?: number;
  to?: number;
}

function resolveRun(payload: Payload): Run {
  const targets = [...new Set(payload.targets ?? derivableTargets(payload.source))].sort(
    (a, b) => timeframeRank(a) - timeframeRank(b),
  );
  const from = payload.from !== undefined ? resolveBound(payload.from, 'from', payload.session, NYSE) : undefined;
  const to = payload.to !== undefined ? resolveBound(payload.to, 'to', payload.session, NYSE) : undefined;
  if (from !== undefined && to !== undefined && from >= to) {
    throw new UnrecoverableError(`invalid payload: from (${payload.from}) must be before to (${payload.to})`);
  }
  return {
    payload,
    targets,
    chunkTargets: targets.filter((target) => INTRADAY_MINUTES[target] !== undefined || target === '1d'),
    finalTargets: targets.filter((target) => target === '2d' || target === '1w' || target === '1M'),
    from,
    to,
  };
}

/**
 * Aggregates one symbol in one transaction: pages of base bars (keyset over the primary key)
 * go through the kernel in the pool chunk by chunk and the results are staged as they come,
 * then merged with one INSERT … ON CONFLICT. The read range is widened to whole periods of the
 * coarsest target, so a stored weekly or monthly bar always covers every base bar of its period.
 */
async function aggregateSymbol(ctx: JobContext, run: Run, symbol: string): Promise<SymbolResult> {
  const { payload } = run;
  const key = { symbol, timeframe: payload.source, variant: payload.sourceVariant };
  const reader = new BarsReader(ctx.db, ctx.schema);
  const repository = new BarsRepository(ctx.db, ctx.schema);
  const result: SymbolResult = {
    symbol,
    sourceBars: 0,
    timeframes: {},
    written: 0,
    unchanged: 0,
    gaps: emptyGapReport(payload.source),
  };

  const extent = await reader.extent(ctx.db, key, run.from, run.to);
  if (!extent) return result;
  // Without bounds, the range is the whole days of the stored bars, so gaps count full sessions.
  const rangeFrom = run.from ?? periodBounds('1d', extent.first, payload.session, NYSE).start;
  const rangeTo = run.to ?? periodBounds('1d', extent.last, payload.session, NYSE).end;
  // Whole periods of every target: a stored bar is never built from part of its period.
  const firstPeriods = run.targets.map((target) => [target, periodBounds(target, rangeFrom, payload.session, NYSE)] as const);
  const readFrom = Math.min(...firstPeriods.map(([, period]) => period.start));
  const readTo = Math.max(...run.targets.map((target) => periodBounds(target, rangeTo - 1, payload.session, NYSE).end));
  const plan: ChunkPlan = {
    symbol,
    source: payload.source,
    sourceVariant: payload.sourceVariant,
    chunkTargets: run.chunkTargets,
    finalTargets: run.finalTargets,
    session: payload.session,
    alignment: payload.alignment,
    calendar: NYSE.name,
    fill: payload.fill,
    rangeFrom,
    rangeTo,
    emitFrom: periodBounds('1d', rangeFrom, payload.session, NYSE).start,
    emitTo: periodBounds('1d', rangeTo - 1, payload.session, NYSE).end,
    finalFrom: Object.fromEntries(
      firstPeriods.filter(([target]) => run.finalTargets.includes(target)).map(([target, period]) => [target, period.start]),
    ),
  };
  Object.assign(result, { from: new Date(rangeFrom).toISOString(), to: new Date(rangeTo).toISOString() });

  const counts = await ctx.db.transaction(async (trx) => {
    let cursor: number | undefined;
    let carry: BarColumns | undefined;
    let daily: BarColumns = allocateBars(0);
    let spanFrom = rangeFrom;
    for (;;) {
      ctx.signal.throwIfAborted();
      const page = await reader.page(trx, key, readFrom, readTo, cursor, payload.pageRows);
      const final = isEmptyBarPage(page);
      const transfer = [page.buffer as ArrayBuffer, ...(carry ? barBuffers(carry) : []), ...(final ? barBuffers(daily) : [])];
      const out = await ctx.pool.run(
        'aggregateChunk',
        { plan, page, carry, spanFrom, final, ...(final ? { daily } : {}) },
        { transfer, signal: ctx.signal },
      );
      result.sourceBars += out.stats.included;
      result.gaps = mergeGapReports(result.gaps, out.gaps, GAPPY_SESSIONS_LISTED);
      for (const [timeframe, count] of Object.entries(out.counts) as Array<[Timeframe, TimeframeCount]>) {
        const entry = (result.timeframes[timeframe] ??= { bars: 0, filled: 0 });
        entry.bars += count.bars;
        entry.filled += count.filled;
      }
      if (out.copy.length > 0) await repository.stage(trx, out.copy, 'binary');
      if (final) break;
      daily = concatBars(daily, out.daily);
      carry = out.carry;
      spanFrom = out.cut;
      cursor = out.lastTs;
    }
    return repository.mergeStaged(trx);
  });
  result.written = counts.written;
  result.unchanged = counts.unchanged;
  return result;
}

/** Tells readers after the commit: bump the cache versions, then announce the new bars. */
async function announce(ctx: JobContext, run: Run, result: SymbolResult): Promise<void> {
  const timeframes = Object.keys(result.timeframes) as Timeframe[];
  if (timeframes.length === 0) return;
  await ctx.barsCache.bump(result.symbol, timeframes);
  await ctx.publisher.publish(
    CHANNELS.barsUpdated,
    {
      symbol: result.symbol,
      source: run.payload.source,
      timeframes,
      variants: Object.fromEntries(
        timeframes.map((timeframe) => [
          timeframe,
          timeframe === run.payload.source
            ? run.payload.sourceVariant
            : variantOf(timeframe, run.payload.session, run.payload.alignment),
        ]),
      ),
      from: result.from,
      to: result.to,
      counts: result.timeframes,
      written: result.written,
    },
    ctx.job.id,
  );
}

/**
 * Builds coarser bars from stored base bars for one, many or all symbols (see the README's
 * "Bars" section for the semantics and the variant naming).
 */
export const aggregateBarsJob = defineJob({
  name: 'aggregate-bars',
  queue: 'aggregate',
  description: 'Aggregate stored base bars to coarser timeframes (session-aligned), with gap report and optional forward fill',
  schema: payloadSchema,
  defaults: STANDARD_DEFAULTS,
  async handle(ctx, payload) {
    const run = resolveRun(payload);
    const symbols =
      payload.symbols === undefined
        ? await new BarsReader(ctx.db, ctx.schema).symbolsWithBars(payload.source, payload.sourceVariant, run.from, run.to)
        : [...new Set(typeof payload.symbols === 'string' ? [payload.symbols] : payload.symbols)];
    await ctx.progress(
      1,
      `aggregating ${symbols.length} symbols from ${payload.source} to ${run.targets.join(', ')} (${payload.session}, ${payload.alignment})`,
    );
    let done = 0;
    const results = await pMap(
      symbols,
      async (symbol) => {
        const result = await aggregateSymbol(ctx, run, symbol);
        await announce(ctx, run, result);
        done++;
        const built = Object.values(result.timeframes).reduce((sum, count) => sum + (count?.bars ?? 0), 0);
        await ctx.progress(
          1 + (98 * done) / symbols.length,
          `${symbol}: ${result.sourceBars} base bars → ${built} bars, ${result.written} written, ${result.gaps.missing} missing`,
        );
        return result;
      },
      { concurrency: Math.max(1, Math.min(MAX_PARALLEL_SYMBOLS, ctx.pool.maxThreads)), signal: ctx.signal },
    );
    await ctx.progress(100);
    return {
      source: payload.source,
      targets: run.targets,
      session: payload.session,
      alignment: payload.alignment,
      fill: payload.fill,
      symbols: results,
      totals: {
        symbols: results.length,
        sourceBars: results.reduce((sum, r) => sum + r.sourceBars, 0),
        written: results.reduce((sum, r) => sum + r.written, 0),
        unchanged: results.reduce((sum, r) => sum + r.unchanged, 0),
        missing: results.reduce((sum, r) => sum + r.gaps.missing, 0),
      },
    };
  },
});
