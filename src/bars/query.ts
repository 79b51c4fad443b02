import { z } from 'zod';
import { ValidationError } from '../shared/errors.js';
import type { BarsReader, SeriesRows } from './bars.reader.js';
import { aggregateBars, canDerive, sessionMask, variantOf } from './aggregate.js';
import { lowerBound } from './pages.js';
import { keptBars, sliceBars, type BarColumns } from './columns.js';
import { NYSE } from '../shared/calendar.js';
import { fillGaps, mergeFills } from './gaps.js';
import { rangeBoundSchema, resolveBound } from './ranges.js';
import { ALIGNMENTS, SESSION_MODES, periodBounds } from './sessions.js';
import { symbolSchema } from '../shared/symbols.js';
import { didYouMean, sameButCase } from '../shared/suggest.js';
import { isIntraday, timeframeSchema, type Timeframe } from './timeframes.js';
import { entryText, type BarsCache, type CacheEntry, type DataClass } from './cache.js';
import { localDate, localMidnight } from '../shared/zone.js';

/** Most bars one answer holds; a wider range is refused with a message to narrow it. */
export const MAX_BARS_PER_ANSWER = 100_000;
/** Most base bars read to derive an answer on the fly; beyond, the caller is told to run aggregate-bars. */
export const MAX_DERIVE_SOURCE_BARS = 500_000;

/** The query GET /api/bars and warm-cache take (the same schema for both). */
export const barsQuerySchema = z
  .object({
    symbol: symbolSchema,
    timeframe: timeframeSchema,
    from: rangeBoundSchema.optional(),
    to: rangeBoundSchema.optional(),
    session: z.enum(SESSION_MODES).default('regular'),
    alignment: z.enum(ALIGNMENTS).default('session'),
    fill: z.enum(['none', 'forward']).default('none'),
  })
  .strict();

export type BarsQuery = z.output<typeof barsQuerySchema>;

/** Where an answer's bars came from. */
export const BARS_ORIGINS = ['stored', 'provider', 'derived'] as const;
export type BarsOrigin = (typeof BARS_ORIGINS)[number];

/** One bar of the JSON answer (and one NDJSON line): vwap null when unknown, `filled` with fills. */
export const barObjectSchema = z.object({
  ts: z.string().describe("ISO-8601 UTC: the bar's period start"),
  open: z.number(),
  high: z.number(),
  low: z.number(),
  close: z.number(),
  volume: z.number(),
  vwap: z.number().nullable(),
  filled: z.boolean().optional().describe('with fill=forward: whether the bar is a fill (volume 0, the previous close)'),
});

export type BarObject = z.output<typeof barObjectSchema>;

/** The JSON answer of GET /api/bars. */
export const barsAnswerSchema = z.object({
  symbol: z.string(),
  timeframe: timeframeSchema,
  session: z.enum(SESSION_MODES),
  alignment: z.enum(ALIGNMENTS),
  variant: z.string().describe('which stored series answered: session mode and alignment, empty for provider bars'),
  origin: z.enum(BARS_ORIGINS),
  bars: z.array(barObjectSchema),
});

/**
 * The answer to a bar query: the bars (the JSON body as cached, serialised and compressed once so
 * a cache hit costs no encoding), or why there are none. Both are cached; `key` changes whenever
 * the answer can, so it serves as an ETag.
 */
export type BarsAnswer = { found: true; body: CacheEntry; key: string } | { found: false; reason: string; key: string };

/** A query's cache key at the versions read for one request, and the entry this process's memory holds under it. */
export interface CacheLookup {
  key: string;
  memory?: CacheEntry;
}

/** A computed answer before it is encoded. */
type Computed = { found: true; origin: BarsOrigin; variant: string; rows: SeriesRows } | { found: false; reason: string };

/** The bars of an answer as a sequence of chunks, for the streamed formats. */
export type BarsStream =
  | { found: true; origin: BarsOrigin; variant: string; withFills: boolean; chunks: AsyncIterable<SeriesRows> }
  | { found: false; reason: string };

/** Rows per chunk of a streamed answer read from a stored series. */
export const STREAM_CHUNK_ROWS = 10_000;

/** The timeframes an answer may be derived from on the fly: alignment-neutral intraday bars and 1d. */
const DERIVE_SOURCES: readonly Timeframe[] = ['1m', '5m', '15m', '30m', '1d'];

/** The kinds of cached answers: found ones hold the body, missing ones the reason. */
const FOUND = 'found';
const MISSING = 'missing';

/**
 * How long the query's answer may be cached: a range that ends before today (New York) is
 * history; one that reaches today is market-hours data while NYSE is open, else the default.
 */
export function dataClassOf(query: BarsQuery, now: number): DataClass {
  const to = query.to !== undefined ? resolveBound(query.to, 'to', query.session, NYSE) : undefined;
  if (to !== undefined && to <= localMidnight(localDate(now, NYSE.timeZone), NYSE.timeZone)) return 'historical';
  return NYSE.sessionAtInstant(now) ? 'market-hours' : 'default';
}

function aggregateJobHint(query: BarsQuery, source: Timeframe): string {
  const payload = {
    symbols: query.symbol,
    source,
    targets: [query.timeframe],
    session: query.session,
    alignment: query.alignment,
    ...(query.from !== undefined ? { from: query.from } : {}),
    ...(query.to !== undefined ? { to: query.to } : {}),
  };
  return `POST /api/jobs/aggregate-bars ${JSON.stringify(payload)}`;
}

/**
 * Answers bar queries through the cache. Which bars answer (see docs/bars.md):
 * 1. the aggregate series of the query's variant, when it exists;
 * 2. else the series stored as it came (variant ''), intraday bars cut to the session mode;
 * 3. else bars derived on the fly from the coarsest stored '' series they can be built from
 *    (1m/5m/15m/30m, or 1d for 2d/1w/1M) when that reads at most MAX_DERIVE_SOURCE_BARS;
 * 4. else no bars, and why, naming the aggregate-bars job to run.
 * A query the data cannot answer as asked (from after to, too many bars) is a ValidationError.
 */
export class BarsQueryService {
  private readonly maxDeriveSourceBars: number;
  private readonly now: () => number;
  private readonly chunkRows: number;

  constructor(
    private readonly reader: BarsReader,
    readonly cache: BarsCache,
    options: { maxDeriveSourceBars?: number; now?: () => number; chunkRows?: number } = {},
  ) {
    this.maxDeriveSourceBars = options.maxDeriveSourceBars ?? MAX_DERIVE_SOURCE_BARS;
    this.now = options.now ?? Date.now;
    this.chunkRows = options.chunkRows ?? STREAM_CHUNK_ROWS;
  }

  /**
   * Reads the current versions the query's answer depends on, counting one request of it for the
   * warm-cache job's "top N requested" in the same round trip, and what this process's memory
   * holds at those versions. `requested` is the query's canonical JSON.
   */
  async lookup(query: BarsQuery, requested = JSON.stringify(query)): Promise<CacheLookup> {
    const key = this.cache.key(query, await this.cache.versionTag(query.symbol, query.timeframe, requested));
    return { key, memory: this.cache.inMemory(key) };
  }

  /** The found answer a lookup's memory entry holds, if it holds one. */
  static foundInMemory(lookup: CacheLookup): CacheEntry | undefined {
    return lookup.memory?.kind === FOUND ? lookup.memory : undefined;
  }

  /**
   * The cached answer, or a fresh one (then cached). `beforeComputing` runs on a miss before any
   * work is done (a per-client limit on uncached work throws there). `looked` is this request's
   * lookup when it was already made (the request is counted once).
   */
  async answer(query: BarsQuery, beforeComputing?: () => Promise<void>, looked?: CacheLookup): Promise<BarsAnswer> {
    const { key, memory } = looked ?? (await this.lookup(query));
    const cached = memory ?? (await this.cache.fromRedis(key, query.symbol));
    if (cached?.kind === FOUND) return { found: true, body: cached, key };
    if (cached?.kind === MISSING) return { found: false, reason: await entryText(cached), key };
    await beforeComputing?.();
    return this.refresh(query, key);
  }

  /**
   * Makes sure the query's answer is cached at the current versions: `cached` when it already
   * was, else computes it (`warmed`). A query the data cannot answer as asked throws its
   * ValidationError.
   */
  async warm(query: BarsQuery): Promise<{ outcome: 'cached' | 'warmed'; key: string }> {
    const key = this.cache.key(query, await this.cache.versionTag(query.symbol, query.timeframe));
    if (await this.cache.has(key)) return { outcome: 'cached', key };
    await this.refresh(query, key);
    return { outcome: 'warmed', key };
  }

  /** Computes the answer and caches it, whatever is cached now; returns it. */
  async refresh(query: BarsQuery, key?: string): Promise<BarsAnswer> {
    const cacheKey = key ?? this.cache.key(query, await this.cache.versionTag(query.symbol, query.timeframe));
    const answer = await this.compute(query);
    const dataClass = dataClassOf(query, this.now());
    if (!answer.found) {
      await this.cache.set(cacheKey, query.symbol, MISSING, answer.reason, dataClass);
      return { ...answer, key: cacheKey };
    }
    const body = jsonBody(query, answer);
    return { found: true, body: await this.cache.set(cacheKey, query.symbol, FOUND, body, dataClass), key: cacheKey };
  }

  /**
   * The answer's bars in chunks, for the streamed formats (never cached): a stored series is read
   * through a cursor without the row limit, so memory stays flat however many bars it holds;
   * forward fills and derived bars are built in memory, within the limits of the JSON answer.
   */
  async stream(query: BarsQuery): Promise<BarsStream> {
    if (query.fill === 'none') {
      const { from, to } = bounds(query);
      const variant = variantOf(query.timeframe, query.session, query.alignment);
      const aggregateKey = { symbol: query.symbol, timeframe: query.timeframe, variant };
      if (query.timeframe !== '1m' && (await this.reader.exists(aggregateKey))) {
        const chunks = this.reader.stream(aggregateKey, { from, to, chunkRows: this.chunkRows });
        return { found: true, origin: 'stored', variant, withFills: false, chunks: unfilled(chunks) };
      }
      const providerKey = { ...aggregateKey, variant: '' };
      if (await this.reader.exists(providerKey)) {
        const chunks = this.reader.stream(providerKey, { from, to, chunkRows: this.chunkRows });
        const cut = isIntraday(query.timeframe)
          ? mapChunks(chunks, (bars) => keptBars(bars, sessionMask(bars, query.timeframe, query.session, NYSE)))
          : chunks;
        return { found: true, origin: 'provider', variant: '', withFills: false, chunks: unfilled(cut) };
      }
    }
    const computed = await this.compute(query);
    if (!computed.found) return computed;
    return { ...computed, withFills: query.fill === 'forward', chunks: once(computed.rows) };
  }

  private async compute(query: BarsQuery): Promise<Computed> {
    const { from, to } = bounds(query);
    // Fills are computed on the fly for whatever series answers, so a forward fill is the same
    // whether or not the aggregate was stored with one.
    const withFills = false;
    const variant = variantOf(query.timeframe, query.session, query.alignment);
    const limit = MAX_BARS_PER_ANSWER + 1;
    const tooMany = () =>
      new ValidationError(
        [{ path: 'from', message: `the range holds more than ${MAX_BARS_PER_ANSWER} bars; narrow from/to` }],
        'query',
      );

    const aggregateKey = { symbol: query.symbol, timeframe: query.timeframe, variant };
    if (query.timeframe !== '1m' && (await this.reader.exists(aggregateKey))) {
      const rows = await this.reader.rows(aggregateKey, { from, to, withFills, limit });
      if (rows.bars.ts.length > MAX_BARS_PER_ANSWER) throw tooMany();
      return { found: true, origin: 'stored', variant, rows: this.filled(query, rows.bars, from, to) };
    }
    const providerKey = { ...aggregateKey, variant: '' };
    if (await this.reader.exists(providerKey)) {
      const rows = await this.reader.rows(providerKey, { from, to, withFills, limit });
      if (rows.bars.ts.length > MAX_BARS_PER_ANSWER) throw tooMany();
      const keep = isIntraday(query.timeframe) ? sessionMask(rows.bars, query.timeframe, query.session, NYSE) : undefined;
      return {
        found: true,
        origin: 'provider',
        variant: '',
        rows: this.filled(query, keep ? keptBars(rows.bars, keep) : rows.bars, from, to),
      };
    }
    return this.derive(query, variant, from, to);
  }

  private async derive(query: BarsQuery, variant: string, from: number | undefined, to: number | undefined): Promise<Computed> {
    const candidates = DERIVE_SOURCES.filter((source) => canDerive(source, query.timeframe)).reverse();
    for (const source of candidates) {
      const key = { symbol: query.symbol, timeframe: source, variant: '' };
      if (!(await this.reader.exists(key))) continue;
      // Whole periods of the target at both ends, so the first and last bar are complete.
      const readFrom = from !== undefined ? periodBounds(query.timeframe, from, query.session, NYSE).start : undefined;
      const readTo = to !== undefined ? periodBounds(query.timeframe, to - 1, query.session, NYSE).end : undefined;
      const base = await this.reader.rows(key, {
        from: readFrom,
        to: readTo,
        withFills: false,
        limit: this.maxDeriveSourceBars + 1,
      });
      if (base.bars.ts.length > this.maxDeriveSourceBars) {
        return {
          found: false,
          reason: `${query.timeframe} bars of ${query.symbol} (${variant}) are not stored and deriving them would read more than ${this.maxDeriveSourceBars} ${source} bars; store them first: ${aggregateJobHint(query, source)}`,
        };
      }
      const options = { session: query.session, alignment: query.alignment, calendar: NYSE };
      const built = aggregateBars(base.bars, { source, targets: [query.timeframe], ...options }).bars[query.timeframe]!;
      const first = from !== undefined ? periodBounds(query.timeframe, from, query.session, NYSE).start : -Infinity;
      const inRange = sliceBars(built, lowerBound(built.ts, first), lowerBound(built.ts, to ?? Infinity));
      return {
        found: true,
        origin: 'derived',
        variant,
        rows: this.filled(query, inRange, Number.isFinite(first) ? first : undefined, to),
      };
    }
    const stored = sameButCase(query.symbol, await this.reader.storedSymbols());
    return {
      found: false,
      reason: `no ${query.timeframe} bars of ${query.symbol} (${variant}) are stored, and no finer bars to build them from (${candidates.join(', ') || 'none can be'})${didYouMean(stored)}`,
    };
  }

  /** The bars with the forward fill of their gaps over [from, to) merged in, when the query asks for it. */
  private filled(query: BarsQuery, bars: BarColumns, from: number | undefined, to: number | undefined): SeriesRows {
    if (query.fill !== 'forward') return { bars, filled: new Uint8Array(bars.ts.length) };
    const options = { timeframe: query.timeframe, session: query.session, alignment: query.alignment, calendar: NYSE };
    return mergeFills(bars, fillGaps(bars, { ...options, from, to }));
  }
}

/** from/to of the query as instants; from must come before to. */
function bounds(query: BarsQuery): { from?: number; to?: number } {
  const from = query.from !== undefined ? resolveBound(query.from, 'from', query.session, NYSE) : undefined;
  const to = query.to !== undefined ? resolveBound(query.to, 'to', query.session, NYSE) : undefined;
  if (from !== undefined && to !== undefined && from >= to) {
    throw new ValidationError([{ path: 'from', message: `from (${query.from}) must be before to (${query.to})` }], 'query');
  }
  return { from, to };
}

async function* mapChunks(chunks: AsyncIterable<BarColumns>, map: (bars: BarColumns) => BarColumns): AsyncGenerator<BarColumns> {
  for await (const bars of chunks) yield map(bars);
}

async function* once(rows: SeriesRows): AsyncGenerator<SeriesRows> {
  yield rows;
}

async function* unfilled(chunks: AsyncIterable<BarColumns>): AsyncGenerator<SeriesRows> {
  for await (const bars of chunks) yield { bars, filled: new Uint8Array(bars.ts.length) };
}

/** The bar objects of the JSON answer (and of NDJSON lines). */
export function barObjects(rows: SeriesRows, withFills: boolean): BarObject[] {
  const { bars, filled } = rows;
  const out: BarObject[] = [];
  for (let i = 0; i < bars.ts.length; i++) {
    const entry: BarObject = {
      ts: new Date(bars.ts[i]).toISOString(),
      open: bars.open[i],
      high: bars.high[i],
      low: bars.low[i],
      close: bars.close[i],
      volume: bars.volume[i],
      vwap: Number.isNaN(bars.vwap[i]) ? null : bars.vwap[i],
    };
    if (withFills) entry.filled = filled[i] === 1;
    out.push(entry);
  }
  return out;
}

/** The JSON answer of a found query. */
function jsonBody(query: BarsQuery, answer: Extract<Computed, { found: true }>): string {
  return JSON.stringify({
    symbol: query.symbol,
    timeframe: query.timeframe,
    session: query.session,
    alignment: query.alignment,
    variant: answer.variant,
    origin: answer.origin,
    bars: barObjects(answer.rows, query.fill === 'forward'),
  } satisfies z.output<typeof barsAnswerSchema>);
}
