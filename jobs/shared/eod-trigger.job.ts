import { z } from 'zod';
import { CHANNELS } from '../../src/notify/channels.js';
import { calendarDateSchema } from '../../src/shared/dates.js';
import { EXCHANGE_TIME_ZONE } from '../../src/universes/universes.js';
import { localDate } from '../../src/shared/zone.js';
import { requestEodPipeline } from '../../src/shared/eod.js';
import { defineJob } from '../define.js';

const payloadSchema = z
  .object({
    date: calendarDateSchema
      .optional()
      .describe('the trading date; the timer leaves it out and the New York date of its slot is used'),
  })
  .strict();

/**
 * The timer's job: a BullMQ job scheduler cannot give its jobs a chosen id, so at 16:30 New
 * York time it fires this small job, which asks for the dated pipeline job (eod-YYYY-MM-DD)
 * and skips days that are not NYSE sessions.
 */
export const eodTriggerJob = defineJob({
  name: 'eod-trigger',
  queue: 'sync',
  description: 'Timer slot of the end-of-day pipeline: enqueue eod-YYYY-MM-DD for the slot date if it is a session',
  schema: payloadSchema,
  defaults: {
    attempts: 3,
    backoff: { type: 'exponential', delay: 2_000 },
    removeOnComplete: { count: 500 },
    removeOnFail: { count: 500 },
  },
  async handle(ctx, payload) {
    const date = payload.date ?? localDate(ctx.job.scheduledFor, EXCHANGE_TIME_ZONE);
    const request = await requestEodPipeline({ db: ctx.db, enqueue: ctx.enqueue }, date);
    ctx.logger.info({ date, outcome: request.outcome }, `end-of-day trigger for ${date}: ${request.outcome}`);
    await ctx.publisher.publish(CHANNELS.automationStatus, { pipeline: 'eod', date, status: request.outcome }, ctx.job.id);
    return request;
  },
});
