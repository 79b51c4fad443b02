import { z } from 'zod';
import { defineContract, STANDARD_DEFAULTS } from '../queues/contract.js';
import { pastTradingDateSchema } from './calendar.js';

const DAY = 24 * 3600;

/** The end-of-day pipeline's job id for a trading date: one run per date, whoever asks. */
export const pipelineJobId = (date: string) => `eod-${date}`;

/** One finished step of a pipeline run: its name, the job that ran it and what that returned. */
export interface PipelineStepResult {
  step: string;
  job: string;
  id: string;
  result: unknown;
}

/**
 * eod-pipeline: the end-of-day pipeline for one trading date, its steps in order. Its id is
 * `eod-YYYY-MM-DD`, so the timer, the eod_complete signal and catch-up never run a date twice;
 * completed pipelines are kept 45 days (and job history longer) so a finished date is recognised.
 */
export const eodPipelineContract = defineContract<{ date: string; steps: PipelineStepResult[] }>()({
  name: 'eod-pipeline',
  queue: 'sync',
  description: 'End-of-day pipeline for one trading date: its steps in order',
  schema: z.object({ date: pastTradingDateSchema }).strict(),
  defaults: { ...STANDARD_DEFAULTS, removeOnComplete: { age: 45 * DAY }, removeOnFail: { age: 90 * DAY } },
  jobId: (payload) => pipelineJobId(payload.date),
});
