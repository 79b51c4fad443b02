import { z } from 'zod';
import { localDate } from '../src/domain/zone.js';
import { STANDARD_DEFAULTS, defineJob } from './define.js';

export const EXCHANGE_TIME_ZONE = 'America/New_York';

const payloadSchema = z
  .object({
    date: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a YYYY-MM-DD trading date')
      .optional()
      .describe('the trading date; the scheduler leaves it out and the date of the firing slot in New York is used'),
  })
  .strict();

/** The end-of-day pipeline's entry point, fired by the scheduler after the close. */
export const eodPipelineJob = defineJob({
  name: 'eod-pipeline',
  queue: 'sync',
  description: 'End-of-day pipeline for one trading date',
  schema: payloadSchema,
  defaults: STANDARD_DEFAULTS,
  jobId: (payload) => (payload.date ? `eod-${payload.date}` : undefined),
  async handle(ctx, payload) {
    const date = payload.date ?? localDate(ctx.job.scheduledFor, EXCHANGE_TIME_ZONE);
    await ctx.log(`end-of-day pipeline for trading date ${date}`);
    await ctx.progress(100);
    return { date, steps: [] as string[] };
  },
});
