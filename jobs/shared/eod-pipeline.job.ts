import { z } from 'zod';
import { CHANNELS } from '../../src/notify/channels.js';
import { tradingDateSchema } from '../../src/universes/universes.js';
import { pipelineJobId } from '../../src/shared/eod.js';
import { throwIfChildrenFailed } from '../children.js';
import { STANDARD_DEFAULTS, defineJob } from '../define.js';

/** One step of the end-of-day pipeline: a job run as a child of the pipeline for the date. */
export interface PipelineStep {
  /** Short name; the child's id is `<pipeline id>-<name>`. */
  name: string;
  job: string;
  payload(date: string): unknown;
}

/**
 * The end-of-day pipeline's steps, run one after the other for each trading date. A step is
 * one entry here; its job runs as a child of the pipeline, so waiting holds no worker slot.
 */
export const PIPELINE_STEPS: readonly PipelineStep[] = [
  // Every symbol's minute bars of the day, to every coarser timeframe (regular session).
  { name: 'aggregate', job: 'aggregate-bars', payload: (date) => ({ source: '1m', from: date, to: date }) },
  { name: 'sync', job: 'eod-sync', payload: (date) => ({ date }) },
  // The queries clients ask most often, answered before they ask again.
  { name: 'warm', job: 'warm-cache', payload: () => ({ top: 100 }) },
];

const DAY = 24 * 3600;

const payloadSchema = z.object({ date: tradingDateSchema }).strict();

/**
 * The end-of-day pipeline for one trading date. Its id is `eod-YYYY-MM-DD`, so the timer, the
 * eod_complete signal and catch-up never run a date twice; completed pipelines are kept 45
 * days (and job history longer) so a finished date is recognised.
 */
export const eodPipelineJob = defineJob({
  name: 'eod-pipeline',
  queue: 'sync',
  description: 'End-of-day pipeline for one trading date: its steps in order',
  schema: payloadSchema,
  defaults: { ...STANDARD_DEFAULTS, removeOnComplete: { age: 45 * DAY }, removeOnFail: { age: 90 * DAY } },
  jobId: (payload) => pipelineJobId(payload.date),
  async handle(ctx, payload) {
    const steps: Array<{ step: string; job: string; id: string; result: unknown }> = [];
    for (const [index, step] of PIPELINE_STEPS.entries()) {
      const id = `${ctx.job.id}-${step.name}`;
      await throwIfChildrenFailed(ctx.children, [id]);
      let results = await ctx.children.results();
      if (!results.has(id)) {
        await ctx.progress((100 * index) / PIPELINE_STEPS.length, `${payload.date}: step ${step.name} (${step.job})`);
        await ctx.publisher.publish(
          CHANNELS.automationStatus,
          { pipeline: 'eod', date: payload.date, status: 'running', step: step.name },
          ctx.job.id,
        );
        await ctx.children.add([{ name: step.job, payload: step.payload(payload.date), jobId: id }]);
        await ctx.children.waitForChildren();
        await throwIfChildrenFailed(ctx.children, [id]);
        results = await ctx.children.results();
        if (!results.has(id)) throw new Error(`step ${step.name} (${id}) finished without a result`);
      }
      steps.push({ step: step.name, job: step.job, id, result: results.get(id) });
    }
    await ctx.progress(100);
    await ctx.publisher.publish(
      CHANNELS.automationStatus,
      { pipeline: 'eod', date: payload.date, status: 'completed', steps: steps.map((step) => step.step) },
      ctx.job.id,
    );
    return { date: payload.date, steps };
  },
});
