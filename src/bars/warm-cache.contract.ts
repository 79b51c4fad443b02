import { z } from 'zod';
import { defineContract } from '../queues/contract.js';
import { barsQuerySchema } from './query.js';

/** What warm-cache did: how many queries it looked at and which keys it wrote. */
export interface WarmCacheResult {
  queries: number;
  warmed: number;
  alreadyCached: number;
  keys: string[];
  skipped: Array<{ query: unknown; reason: string }>;
  ms: number;
}

/**
 * warm-cache: fills the bar-query cache ahead of readers — an explicit list of queries, or the
 * N most requested ones (tallied by GET /api/bars).
 */
export const warmCacheContract = defineContract<WarmCacheResult>()({
  name: 'warm-cache',
  queue: 'cache',
  description: 'Warm the bars cache: explicit queries or the N most requested',
  schema: z
    .object({
      queries: z.array(barsQuerySchema).min(1).max(1_000).optional().describe('the GET /api/bars queries to warm'),
      top: z.number().int().min(1).max(1_000).optional().describe('warm the N most requested queries'),
    })
    .strict()
    .refine((payload) => (payload.queries === undefined) !== (payload.top === undefined), {
      message: 'give exactly one of queries or top',
      path: ['queries'],
    }),
  defaults: {
    attempts: 2,
    backoff: { type: 'exponential', delay: 2_000 },
    removeOnComplete: { age: 7 * 24 * 3600, count: 1_000 },
    removeOnFail: { age: 30 * 24 * 3600, count: 1_000 },
  },
});
