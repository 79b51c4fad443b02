import { z } from 'zod';
import { UniverseSyncRepository, type TaskOutcome } from '../../src/universes/sync.repository.js';
import { SYNC_TASKS, tradingDateSchema, type SyncTask } from '../../src/universes/universes.js';
import { CHANNELS } from '../../src/notify/channels.js';
import { throwIfChildrenFailed } from '../children.js';
import { STANDARD_DEFAULTS, defineJob } from '../define.js';

const payloadSchema = z.object({ date: tradingDateSchema }).strict();

/** The child job id of one task of a sync run. */
export const taskJobId = (parentId: string, task: SyncTask) => `${parentId}-${task}`;

/**
 * The end-of-day universe sync for one trading date: a BullMQ flow whose parent (this job)
 * adds the five tasks as children and, once they have all committed, sums up the run from the
 * audit trail and announces it: tickstock.universe.updated for each changed universe, then
 * tickstock.cache.sync_complete with the summary.
 *
 * The tasks own disjoint sets of memberships (see README), so they may run in any order or
 * at once; each is serialised with other runs of the same task by its sync_task_state row.
 */
export const eodSyncJob = defineJob({
  name: 'eod-sync',
  queue: 'sync',
  description: 'End-of-day universe sync for a trading date: five task children, then a summary and notifications',
  schema: payloadSchema,
  defaults: STANDARD_DEFAULTS,
  async handle(ctx, payload) {
    const sync = new UniverseSyncRepository(ctx.db);
    // One run per execution of this job: a re-run of the same id later (after the job was
    // removed) must not be summed up with the earlier one.
    const runId = `${ctx.job.id}/${ctx.job.scheduledFor}`;
    await sync.startRun(runId, payload.date);

    const taskIds = SYNC_TASKS.map((task) => taskJobId(ctx.job.id, task));
    await throwIfChildrenFailed(ctx.children, taskIds);
    let results = await ctx.children.results();
    const missing = SYNC_TASKS.filter((task) => !results.has(taskJobId(ctx.job.id, task)));
    if (missing.length > 0) {
      await ctx.progress(5, `sync ${payload.date}: running ${missing.join(', ')}`);
      await ctx.children.add(
        missing.map((task) => ({
          name: 'eod-sync-task',
          payload: { date: payload.date, task, runId },
          jobId: taskJobId(ctx.job.id, task),
        })),
      );
      await ctx.children.waitForChildren();
      await throwIfChildrenFailed(ctx.children, taskIds);
      results = await ctx.children.results();
    }
    const outcomes = SYNC_TASKS.map((task) => {
      const outcome = results.get(taskJobId(ctx.job.id, task)) as TaskOutcome | undefined;
      if (!outcome) throw new Error(`task ${task} of sync ${runId} finished without a result`);
      return outcome;
    });

    const summary = await sync.summarize(runId);
    await sync.finishRun(summary);
    await ctx.progress(90, `sync ${payload.date}: ${summary.changes} changes; notifying`);
    const changed = await sync.universeChanges(runId);
    for (const universe of changed) {
      await ctx.publisher.publish(
        CHANNELS.universeUpdated,
        { ...universe, trading_date: payload.date, run_id: runId },
        ctx.job.id,
      );
    }
    const tasks = Object.fromEntries(
      outcomes.map((outcome) => [outcome.task, { duration_ms: outcome.durationMs, ...outcome.notes }]),
    );
    const complete = { ...summary, universes_changed: changed.map((universe) => universe.universe), task_details: tasks };
    await ctx.publisher.publish(CHANNELS.cacheSyncComplete, complete, ctx.job.id);
    await ctx.progress(100);
    return complete;
  },
});
