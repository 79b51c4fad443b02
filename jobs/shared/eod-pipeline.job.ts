import type { ChildJob } from '../../src/queues/flows.js';
import type { JobName, PayloadOf } from '../../src/queues/registry.js';
import { eodPipelineContract, type PipelineStepResult } from '../../src/shared/eod-pipeline.contract.js';
import { throwIfChildrenFailed } from '../children.js';
import { defineHandler } from '../handler.js';

/** One step of the end-of-day pipeline: a job run as a child of the pipeline for the date. */
export interface PipelineStep<out N extends JobName> {
  /** Short name; the child's id is `<pipeline id>-<name>`. */
  name: string;
  job: N;
  payload(date: string): PayloadOf<N>;
}

/** A step of any job kind, its payload checked against its own job's schema. */
export type AnyPipelineStep = { [N in JobName]: PipelineStep<N> }[JobName];

/**
 * The end-of-day pipeline's steps, run one after the other for each trading date. A step is
 * one entry here; its job runs as a child of the pipeline, so waiting holds no worker slot.
 */
export const PIPELINE_STEPS: readonly AnyPipelineStep[] = [
  // Every symbol's minute bars of the day, to every coarser timeframe (regular session).
  { name: 'aggregate', job: 'aggregate-bars', payload: (date) => ({ source: '1m', from: date, to: date }) },
  // Patterns in the day's bars of every symbol, right after they were built.
  { name: 'detect', job: 'detect-patterns', payload: (date) => ({ from: date, to: date }) },
  // Outcomes, context and the pattern analytics of the whole daily history, as of the date.
  { name: 'analyze', job: 'analyze-patterns', payload: () => ({}) },
  { name: 'sync', job: 'eod-sync', payload: (date) => ({ date }) },
  // The queries clients ask most often, answered before they ask again.
  { name: 'warm', job: 'warm-cache', payload: () => ({ top: 100 }) },
];

/** The child job that runs a step for a date. */
function stepChild<N extends JobName>(step: PipelineStep<N>, date: string, jobId: string): ChildJob<N> {
  return { name: step.job, payload: step.payload(date), jobId };
}

/** eod-pipeline: the steps of one trading date, one after the other, each a child job. */
export const eodPipelineHandler = defineHandler(eodPipelineContract, async (ctx, payload) => {
  const steps: PipelineStepResult[] = [];
  for (const [index, step] of PIPELINE_STEPS.entries()) {
    const id = `${ctx.job.id}-${step.name}`;
    await throwIfChildrenFailed(ctx.children, [id]);
    if (!(await ctx.children.completed()).has(id)) {
      await ctx.progress((100 * index) / PIPELINE_STEPS.length, `${payload.date}: step ${step.name} (${step.job})`);
      await ctx.events.publish('automationStatus', { pipeline: 'eod', date: payload.date, status: 'running', step: step.name });
      await ctx.children.add([stepChild(step, payload.date, id)]);
      await ctx.children.waitForChildren();
      await throwIfChildrenFailed(ctx.children, [id]);
    }
    const result = await ctx.children.resultOf({ name: step.job, jobId: id });
    if (result === undefined) throw new Error(`step ${step.name} (${id}) finished without a result`);
    steps.push({ step: step.name, job: step.job, id, result });
  }
  await ctx.progress(100);
  await ctx.events.publish('automationStatus', {
    pipeline: 'eod',
    date: payload.date,
    status: 'completed',
    steps: steps.map((step) => step.step),
  });
  return { date: payload.date, steps };
});
