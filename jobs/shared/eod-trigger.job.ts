import { NYSE } from '../../src/shared/calendar.js';
import { eodTriggerContract } from '../../src/shared/eod-trigger.contract.js';
import { requestEodPipeline } from '../../src/shared/eod.js';
import { localDate } from '../../src/shared/zone.js';
import { defineHandler } from '../handler.js';

/** eod-trigger: asks for the slot date's pipeline if the date is a session. */
export const eodTriggerHandler = defineHandler(eodTriggerContract, async (ctx, payload) => {
  const date = payload.date ?? localDate(ctx.job.scheduledFor, NYSE.timeZone);
  const request = await requestEodPipeline(
    {
      history: ctx.store.jobHistory,
      addPipeline: async (day) => (await ctx.enqueue('eod-pipeline', { date: day })).id,
    },
    date,
  );
  ctx.logger.info({ date, outcome: request.outcome }, `end-of-day trigger for ${date}: ${request.outcome}`);
  await ctx.events.publish('automationStatus', { pipeline: 'eod', date, status: request.outcome });
  return request;
});
