import type { EnqueueFn } from '../../jobs/define.js';
import type { Knex } from './db.js';
import { isNyseSession } from '../universes/universes.js';

/** The end-of-day pipeline's job id for a trading date: one run per date, whoever asks. */
export const pipelineJobId = (date: string) => `eod-${date}`;

export interface PipelineRequest {
  date: string;
  /** requested: added, or already waiting/running under the date's id; the others add nothing. */
  outcome: 'requested' | 'not-a-session' | 'already-completed';
  jobId?: string;
}

/** Dates whose pipeline completed, per job history (which outlives the BullMQ job). */
export async function completedPipelineDates(db: Knex, dates: readonly string[]): Promise<Set<string>> {
  if (dates.length === 0) return new Set();
  const rows = await db('job_history')
    .select<Array<{ job_id: string }>>('job_id')
    .where({ queue: 'sync', outcome: 'completed' })
    .whereIn('job_id', dates.map(pipelineJobId));
  return new Set(rows.map((row) => row.job_id.slice('eod-'.length)));
}

/**
 * Asks for the end-of-day pipeline of a date, as the timer, the eod_complete signal and
 * catch-up all do. Non-sessions are skipped; a date whose pipeline completed is not run again
 * even after its job left Redis; otherwise the date's deterministic job id makes BullMQ keep
 * a single job however many times it is asked.
 */
export async function requestEodPipeline(deps: { db: Knex; enqueue: EnqueueFn }, date: string): Promise<PipelineRequest> {
  if (!isNyseSession(date)) return { date, outcome: 'not-a-session' };
  if ((await completedPipelineDates(deps.db, [date])).has(date)) {
    return { date, outcome: 'already-completed', jobId: pipelineJobId(date) };
  }
  const job = await deps.enqueue('eod-pipeline', { date }, { jobId: pipelineJobId(date) });
  return { date, outcome: 'requested', jobId: job.id };
}
