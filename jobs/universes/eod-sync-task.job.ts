import { eodSyncTaskContract } from '../../src/universes/eod-sync-task.contract.js';
import { defineHandler } from '../handler.js';
import { effectiveEtfFilters } from '../../src/universes/etf-themes.js';

/**
 * eod-sync-task: one of the five sync tasks, run by eod-sync as a child; one PostgreSQL
 * transaction. A date before the one the task already synced is a SyncOrderError, never retried.
 */
export const eodSyncTaskHandler = defineHandler(eodSyncTaskContract, async (ctx, payload) => {
  ctx.signal.throwIfAborted();
  await ctx.progress(5, `${payload.task} for ${payload.date}`);
  const outcome = await ctx.store.sync.runTask(payload.task, payload.date, payload.runId, {
    etfFilters: effectiveEtfFilters(ctx.etfFilterOverrides),
  });
  await ctx.progress(100, `${payload.task}: ${outcome.changes} changes in ${outcome.durationMs} ms`);
  return outcome;
});
