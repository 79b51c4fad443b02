import pMap from 'p-map';
import { z } from 'zod';
import { BarsQueryService, barsQuerySchema, type BarsQuery } from '../../src/bars/query.js';
import { toIssues } from '../../src/shared/validation.js';
import { defineJob } from '../define.js';

/** Queries warmed at once. */
const PARALLEL_QUERIES = 4;

const payloadSchema = z
  .object({
    queries: z.array(barsQuerySchema).min(1).max(1_000).optional().describe('the GET /api/bars queries to warm'),
    top: z.number().int().min(1).max(1_000).optional().describe('warm the N most requested queries'),
  })
  .strict()
  .refine((payload) => (payload.queries === undefined) !== (payload.top === undefined), {
    message: 'give exactly one of queries or top',
    path: ['queries'],
  });

export type WarmCachePayload = z.input<typeof payloadSchema>;

/**
 * Fills the bar-query cache ahead of readers: an explicit list of queries, or the N most
 * requested ones (tallied by GET /api/bars). Answers already cached at the current versions are
 * left alone.
 */
export const warmCacheJob = defineJob({
  name: 'warm-cache',
  queue: 'cache',
  description: 'Warm the bars cache: explicit queries or the N most requested',
  schema: payloadSchema,
  defaults: {
    attempts: 2,
    backoff: { type: 'exponential', delay: 2_000 },
    removeOnComplete: { age: 7 * 24 * 3600, count: 1_000 },
    removeOnFail: { age: 30 * 24 * 3600, count: 1_000 },
  },
  async handle(ctx, payload) {
    const started = Date.now();
    const skipped: Array<{ query: unknown; reason: string }> = [];
    let queries: BarsQuery[] = payload.queries ?? [];
    if (payload.top !== undefined) {
      queries = [];
      // The tally outlives code changes: a stored query the schema no longer accepts is skipped.
      for (const { query } of await ctx.barsCache.topRequested(payload.top)) {
        const parsed = barsQuerySchema.safeParse(query);
        if (parsed.success) queries.push(parsed.data);
        else
          skipped.push({
            query,
            reason: toIssues(parsed.error)
              .map((issue) => `${issue.path}: ${issue.message}`)
              .join('; '),
          });
      }
    }
    const service = new BarsQueryService(ctx.db, ctx.schema, ctx.barsCache);
    let done = 0;
    const outcomes = await pMap(
      queries,
      async (query) => {
        const outcome = await service.warm(query);
        done++;
        if (done % 25 === 0 || done === queries.length) await ctx.progress((100 * done) / queries.length);
        return { query, ...outcome };
      },
      { concurrency: PARALLEL_QUERIES, signal: ctx.signal },
    );
    const warmed = outcomes.filter((o) => o.outcome === 'warmed');
    ctx.barsCache.metrics.warmed?.(warmed.length);
    for (const refused of outcomes.filter((o) => o.outcome === 'refused')) {
      skipped.push({ query: refused.query, reason: `the query is answered with status ${refused.status}` });
    }
    await ctx.progress(100);
    return {
      queries: queries.length,
      warmed: warmed.length,
      alreadyCached: outcomes.filter((o) => o.outcome === 'cached').length,
      keys: warmed.map((o) => o.key),
      skipped,
      ms: Date.now() - started,
    };
  },
});
