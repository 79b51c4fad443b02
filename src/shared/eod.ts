import { NYSE, isNyseSession } from './calendar.js';
import { eodPipelineContract, pipelineJobId } from './eod-pipeline.contract.js';
import type { JobHistoryRepository } from './job-history.repository.js';
import { fromWallClock, parseIsoDate } from './zone.js';

export interface PipelineRequest {
  date: string;
  /** requested: added, or already waiting/running under the date's id; the others add nothing. */
  outcome: 'requested' | 'not-a-session' | 'already-completed';
  jobId?: string;
}

/** What asking for a date's pipeline needs: the job history, and a way to add the pipeline job. */
export interface PipelineRequester {
  history: Pick<JobHistoryRepository, 'completed'>;
  /** Adds the date's pipeline job under its deterministic id; returns the id. */
  addPipeline(date: string): Promise<string>;
}

/** Dates among these whose pipeline completed, per job history (which outlives the BullMQ job). */
export async function completedPipelineDates(
  history: Pick<JobHistoryRepository, 'completed'>,
  dates: readonly string[],
): Promise<Set<string>> {
  const completed = await history.completed(eodPipelineContract.queue, dates.map(pipelineJobId));
  return new Set(dates.filter((date) => completed.has(pipelineJobId(date))));
}

/**
 * Asks for the end-of-day pipeline of a date, as the timer, the eod_complete signal and
 * catch-up all do. Non-sessions are skipped; a date whose pipeline completed is not run again
 * even after its job left Redis; otherwise the date's deterministic job id makes BullMQ keep
 * a single job however many times it is asked.
 */
export async function requestEodPipeline(requester: PipelineRequester, date: string): Promise<PipelineRequest> {
  if (!isNyseSession(date)) return { date, outcome: 'not-a-session' };
  if ((await completedPipelineDates(requester.history, [date])).has(date)) {
    return { date, outcome: 'already-completed', jobId: pipelineJobId(date) };
  }
  return { date, outcome: 'requested', jobId: await requester.addPipeline(date) };
}

/** When the end-of-day pipeline of a session is due: 16:30 New York time on its date. */
export const EOD_SLOT = { hour: 16, minute: 30 } as const;

export function eodSlot(date: string): number {
  const [year, month, day] = parseIsoDate(date);
  return fromWallClock(year, month, day, EOD_SLOT.hour, EOD_SLOT.minute, NYSE.timeZone);
}

/**
 * The last `count` sessions whose end-of-day slot is at or before `now`, oldest first: the
 * dates a scheduler that was down may have missed.
 */
export function recentEodSessions(now: number, count: number): string[] {
  if (count <= 0) return [];
  const today = new Date(now).toISOString().slice(0, 10);
  // The New York date is today's UTC date or the day before; start from the later one.
  let candidate = NYSE.isSession(today) ? today : NYSE.previousSession(today).date;
  const out: string[] = [];
  while (out.length < count) {
    if (eodSlot(candidate) <= now) out.push(candidate);
    candidate = NYSE.previousSession(candidate).date;
  }
  return out.reverse();
}
