import { z } from 'zod';
import { defineContract } from '../queues/contract.js';

/**
 * noop: does nothing, or a measured amount of CPU work in the pool and of waiting. Probes the
 * queue end to end and serves capacity and fault tests.
 */
export const noopContract = defineContract<{ ok: true; iterations: number }>()({
  name: 'noop',
  queue: 'system',
  description: 'Probe: optionally burn cpuMs in the kernel pool, wait waitMs and fail the first failAttempts attempts',
  schema: z
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
    .strict(),
  defaults: {
    attempts: 3,
    backoff: { type: 'exponential', delay: 100 },
    removeOnComplete: { age: 3600, count: 1_000 },
    removeOnFail: { age: 24 * 3600, count: 1_000 },
  },
});
