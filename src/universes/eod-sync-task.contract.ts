import { z } from 'zod';
import { defineContract, STANDARD_DEFAULTS } from '../queues/contract.js';
import { tradingDateSchema } from '../shared/calendar.js';
import type { TaskOutcome } from './sync.repository.js';
import { SYNC_TASKS } from './universes.js';

/** eod-sync-task: one task of a sync run, added by eod-sync as a child; one transaction. */
export const eodSyncTaskContract = defineContract<TaskOutcome>()({
  name: 'eod-sync-task',
  queue: 'sync',
  description: 'One task of the end-of-day universe sync, in its own transaction, every change logged',
  schema: z
    .object({
      date: tradingDateSchema,
      task: z.enum(SYNC_TASKS, { message: `must be one of ${SYNC_TASKS.join(', ')}` }),
      runId: z.string().min(1).max(200).describe('the sync run this task belongs to (set by eod-sync)'),
    })
    .strict(),
  defaults: STANDARD_DEFAULTS,
  internal: true,
});

/** The child job id of one task of a sync run. */
export const taskJobId = (parentId: string, task: (typeof SYNC_TASKS)[number]) => `${parentId}-${task}`;
