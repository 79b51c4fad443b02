import { z } from 'zod';
import { defineContract } from '../queues/contract.js';
import { calendarDateSchema } from './dates.js';
import type { PipelineRequest } from './eod.js';

/**
 * eod-trigger: the timer's job. A BullMQ job scheduler cannot give its jobs a chosen id, so at
 * 16:30 New York time it fires this small job, which asks for the dated pipeline job
 * (eod-YYYY-MM-DD) and skips days that are not NYSE sessions.
 */
export const eodTriggerContract = defineContract<PipelineRequest>()({
  name: 'eod-trigger',
  queue: 'sync',
  description: 'Timer slot of the end-of-day pipeline: enqueue eod-YYYY-MM-DD for the slot date if it is a session',
  schema: z
    .object({
      date: calendarDateSchema
        .optional()
        .describe('the trading date; the timer leaves it out and the New York date of its slot is used'),
    })
    .strict(),
  defaults: {
    attempts: 3,
    backoff: { type: 'exponential', delay: 2_000 },
    removeOnComplete: { count: 500 },
    removeOnFail: { count: 500 },
  },
});
