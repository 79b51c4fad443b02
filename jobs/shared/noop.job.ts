import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { defineJob } from '../define.js';

const payloadSchema = z
  .object({
    cpuMs: z.number().int().min(0).max(60_000).default(0).describe('milliseconds of CPU work in the kernel pool'),
    waitMs: z.number().int().min(0).max(60_000).default(0).describe('milliseconds to wait without using CPU'),
    failAttempts: z
      .number()
      .int()
      .min(0)
      .max(10)
      .default(0)
      .describe('fail this many attempts on purpose (exercises retries, dead letters and alerts)'),
  })
  .strict();

/**
 * Does nothing, or a measured amount of CPU work in the pool and of waiting. Probes the
 * queue end to end and serves capacity and fault tests.
 */
export const noopJob = defineJob({
  name: 'noop',
  queue: 'system',
  description: 'Probe: optionally burn cpuMs in the kernel pool, wait waitMs and fail the first failAttempts attempts',
  schema: payloadSchema,
  defaults: {
    attempts: 3,
    backoff: { type: 'exponential', delay: 100 },
    removeOnComplete: { age: 3600, count: 1_000 },
    removeOnFail: { age: 24 * 3600, count: 1_000 },
  },
  async handle(ctx, payload) {
    if (ctx.job.attempt <= payload.failAttempts) {
      throw new Error(`attempt ${ctx.job.attempt} fails on purpose (failAttempts ${payload.failAttempts})`);
    }
    let iterations = 0;
    if (payload.cpuMs > 0) iterations = await ctx.pool.run('spin', { ms: payload.cpuMs }, { signal: ctx.signal });
    if (payload.waitMs > 0) await sleep(payload.waitMs, undefined, { signal: ctx.signal });
    return { ok: true as const, iterations };
  },
});
