import pMap from 'p-map';
import { BarsQueryService, barsQuerySchema, type BarsQuery } from '../../src/bars/query.js';
import { warmCacheContract } from '../../src/bars/warm-cache.contract.js';
import { ValidationError } from '../../src/shared/errors.js';
import { toIssues } from '../../src/shared/validation.js';
import { defineHandler } from '../handler.js';

/** Queries warmed at once. */
const PARALLEL_QUERIES = 4;

/** The issues of a validation error as one line. */
const issueLine = (error: ValidationError) => error.issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');

/**
 * warm-cache: answers the listed or the most requested bar queries ahead of readers; answers
 * already cached at the current versions are left alone.
 */
export const warmCacheHandler = defineHandler(warmCacheContract, async (ctx, payload) => {
  const started = Date.now();
  const skipped: Array<{ query: unknown; reason: string }> = [];
  let queries: BarsQuery[] = payload.queries ?? [];
  if (payload.top !== undefined) {
    queries = [];
    // The tally outlives code changes: a stored query the schema no longer accepts is skipped.
    for (const { query } of await ctx.barsCache.topRequested(payload.top)) {
      const parsed = barsQuerySchema.safeParse(query);
      if (parsed.success) queries.push(parsed.data);
      else skipped.push({ query, reason: issueLine(new ValidationError(toIssues(parsed.error))) });
    }
  }
  const service = new BarsQueryService(ctx.store.barsReader, ctx.barsCache);
  let done = 0;
  const outcomes = await pMap(
    queries,
    async (query) => {
      const outcome = await service.warm(query).catch((error: unknown) => {
        // A query the data cannot answer as asked is skipped, not retried.
        if (error instanceof ValidationError) return { outcome: 'refused' as const, reason: issueLine(error) };
        throw error;
      });
      done++;
      if (done % 25 === 0 || done === queries.length)
        await ctx.progress((100 * done) / queries.length, `warmed ${done} of ${queries.length} queries`);
      return { query, ...outcome };
    },
    { concurrency: PARALLEL_QUERIES, signal: ctx.signal },
  );
  const warmed = outcomes.flatMap((o) => (o.outcome === 'warmed' ? [o.key] : []));
  ctx.barsCache.metrics.warmed?.(warmed.length);
  for (const o of outcomes) if (o.outcome === 'refused') skipped.push({ query: o.query, reason: o.reason });
  await ctx.progress(100);
  return {
    queries: queries.length,
    warmed: warmed.length,
    alreadyCached: outcomes.filter((o) => o.outcome === 'cached').length,
    keys: warmed,
    skipped,
    ms: Date.now() - started,
  };
});
