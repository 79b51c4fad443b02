import { SYNC_TASKS } from '../../src/universes/universes.js';
import { taskJobId } from '../../src/universes/eod-sync-task.contract.js';
import { eodSyncContract } from '../../src/universes/eod-sync.contract.js';
import { throwIfChildrenFailed } from '../children.js';
import { defineHandler } from '../handler.js';
import { CORRELATION_MOVE_THRESHOLD } from '../../src/universes/correlation.js';
import type { EtfCorrelationUpdate } from '../../src/notify/channels.js';

/**
 * eod-sync: the end-of-day universe sync for one trading date, a BullMQ flow whose parent (this
 * job) adds the five tasks as children and, once they have all committed, sums up the run from
 * the audit trail and announces it: tickstock.universe.updated for each changed universe,
 * tickstock.etf.correlation_update when ETF correlations moved past the threshold, then
 * tickstock.cache.sync_complete with the summary.
 *
 * The tasks own disjoint sets of memberships (see docs/universes.md), so they may run in any
 * order or at once; each is serialised with other runs of the same task by its sync_task_state row.
 */
export const eodSyncHandler = defineHandler(eodSyncContract, async (ctx, payload) => {
  const sync = ctx.store.sync;
  // One run per execution of this job: a re-run of the same id later (after the job was
  // removed) must not be summed up with the earlier one.
  const runId = `${ctx.job.id}/${ctx.job.scheduledFor}`;
  await sync.startRun(runId, payload.date);

  const taskIds = SYNC_TASKS.map((task) => taskJobId(ctx.job.id, task));
  await throwIfChildrenFailed(ctx.children, taskIds);
  const completed = await ctx.children.completed();
  const missing = SYNC_TASKS.filter((task) => !completed.has(taskJobId(ctx.job.id, task)));
  if (missing.length > 0) {
    await ctx.progress(5, `sync ${payload.date}: running ${missing.join(', ')}`);
    await ctx.children.add(
      missing.map((task) => ({
        name: 'eod-sync-task' as const,
        payload: { date: payload.date, task, runId },
        jobId: taskJobId(ctx.job.id, task),
      })),
    );
    await ctx.children.waitForChildren();
    await throwIfChildrenFailed(ctx.children, taskIds);
  }
  const outcomes = await Promise.all(
    SYNC_TASKS.map(async (task) => {
      const outcome = await ctx.children.resultOf({ name: 'eod-sync-task', jobId: taskJobId(ctx.job.id, task) });
      if (!outcome) throw new Error(`task ${task} of sync ${runId} finished without a result`);
      return outcome;
    }),
  );

  const summary = await sync.summarize(runId);
  await sync.finishRun(summary);
  await ctx.progress(90, `sync ${payload.date}: ${summary.changes} changes; notifying`);
  const changed = await sync.universeChanges(runId);
  for (const universe of changed) {
    await ctx.events.publish('universeUpdated', { ...universe, trading_date: payload.date, run_id: runId });
  }
  const etf = outcomes.find((outcome) => outcome.task === 'etf_universe_maintenance')!;
  const moves = (etf.notes.correlationMoves ?? []) as EtfCorrelationUpdate['moves'];
  if (moves.length > 0) {
    await ctx.events.publish('etfCorrelationUpdate', {
      trading_date: payload.date,
      run_id: runId,
      threshold: CORRELATION_MOVE_THRESHOLD,
      moves,
    });
  }
  const tasks = Object.fromEntries(
    outcomes.map((outcome) => [outcome.task, { duration_ms: outcome.durationMs, ...outcome.notes }]),
  );
  const complete = { ...summary, universes_changed: changed.map((universe) => universe.universe), task_details: tasks };
  await ctx.events.publish('cacheSyncComplete', complete);
  await ctx.progress(100);
  return complete;
});
