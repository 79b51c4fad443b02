import type { z } from 'zod';
import type { QueueName } from '../src/queues/names.js';
import type { JobDefinition } from './define.js';
import { buildContinuousJob } from './futures/build-continuous.job.js';
import { aggregateBarsJob } from './bars/aggregate-bars.job.js';
import { warmCacheJob } from './bars/warm-cache.job.js';
import { eodPipelineJob } from './shared/eod-pipeline.job.js';
import { eodSyncTaskJob } from './universes/eod-sync-task.job.js';
import { eodSyncJob } from './universes/eod-sync.job.js';
import { eodTriggerJob } from './shared/eod-trigger.job.js';
import { generateScenarioJob } from './scenarios/generate-scenario.job.js';
import { importBarsJob } from './bars/import-bars.job.js';
import { importFuturesJob } from './futures/import-futures.job.js';
import { importSymbolsJob } from './universes/import-symbols.job.js';
import { noopJob } from './shared/noop.job.js';

/** Every job kind tickforge runs. The API, CLI, scheduler and worker all derive from this list. */
export const JOBS = [
  importBarsJob,
  eodPipelineJob,
  noopJob,
  importFuturesJob,
  buildContinuousJob,
  importSymbolsJob,
  eodSyncJob,
  eodSyncTaskJob,
  eodTriggerJob,
  generateScenarioJob,
  aggregateBarsJob,
  warmCacheJob,
] as const;

export type AnyJob = (typeof JOBS)[number];
export type JobName = AnyJob['name'];
export type JobByName<N extends JobName> = Extract<AnyJob, { name: N }>;
/** What a caller passes to enqueue a job of this name. */
export type PayloadOf<N extends JobName> = z.input<JobByName<N>['schema']>;
/** What a job of this name returns when it completes. */
export type ResultOf<N extends JobName> = Awaited<ReturnType<JobByName<N>['handle']>>;

/** Raised when the list of job kinds cannot be served: a name without a handler, or with two. */
export class RegistryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegistryError';
  }
}

/** Checks a list of job kinds and indexes it by name. */
export function buildRegistry(jobs: readonly JobDefinition[]): Map<string, JobDefinition> {
  const byName = new Map<string, JobDefinition>();
  const problems: string[] = [];
  for (const job of jobs) {
    if (typeof job.handle !== 'function') problems.push(`job ${job.name} has no handler`);
    if (byName.has(job.name)) problems.push(`job ${job.name} has two handlers`);
    byName.set(job.name, job);
  }
  if (problems.length > 0) throw new RegistryError(`job registry is invalid: ${problems.join('; ')}`);
  return byName;
}

export const registry: ReadonlyMap<string, JobDefinition> = buildRegistry(JOBS as readonly JobDefinition[]);

export function isJobName(name: string): name is JobName {
  return registry.has(name);
}

/** Queues that have at least one job kind, in registry order. */
export function activeQueues(): QueueName[] {
  return [...new Set(JOBS.map((job) => job.queue))];
}
