import { setTimeout as sleep } from 'node:timers/promises';
import { noopContract } from '../../src/shared/noop.contract.js';
import { defineHandler } from '../handler.js';

/** noop: burns cpuMs in the pool, waits waitMs and fails the first failAttempts attempts on purpose. */
export const noopHandler = defineHandler(noopContract, async (ctx, payload) => {
  if (ctx.job.attempt <= payload.failAttempts) {
    throw new Error(`attempt ${ctx.job.attempt} fails on purpose (failAttempts ${payload.failAttempts})`);
  }
  let iterations = 0;
  if (payload.cpuMs > 0) iterations = await ctx.kernels.run('spin', { ms: payload.cpuMs }, { signal: ctx.signal });
  if (payload.waitMs > 0) await sleep(payload.waitMs, undefined, { signal: ctx.signal });
  return { ok: true as const, iterations };
});
