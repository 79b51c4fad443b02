import { UnrecoverableError } from 'bullmq';
import { z } from 'zod';
import { SyncOrderError, UniverseSyncRepository } from '../../src/universes/sync.repository.js';
import { SYNC_TASKS, tradingDateSchema } from '../../src/universes/universes.js';
import { STANDARD_DEFAULTS, defineJob } from '../define.js';

const payloadSchema = z
  .object({
    date: tradingDateSchema,
    task: z.enum(SYNC_TASKS, { message: `must be one of ${SYNC_TASKS.join(', ')}` }),
    runId: z.string().min(1).max(200).describe('the sync run this task belongs to (set by eod-sync)'),
  })
  .strict();

/** One of the five sync tasks, run by eod-sync as a child; one Postgres transaction. */
export const eodSyncTaskJob = defineJob({
  name: 'eod-sync-task',
  queue: 'sync',
  description: 'One task of the end-of-day universe sync, in its own transaction, every change logged',
  schema: payloadSchema,
  defaults: STANDARD_DEFAULTS,
  async handle(ctx, payload) {
    ctx.signal.throwIfAborted();
    await ctx.progress(5, `${payload.task} for ${payload.date}`);
    try {
      const outcome = await new UniverseSyncRepository(ctx.db).runTask(payload.task, payload.date, payload.runId);
      await ctx.progress(100, `${payload.task}: ${outcome.changes} changes in ${outcome.durationMs} ms`);
      return outcome;
    } catch (error) {
      if (error instanceof SyncOrderError) throw new UnrecoverableError(error.message);
      throw error;
    }
  },
});
