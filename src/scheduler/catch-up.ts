import type { FlowProducer, Queue } from 'bullmq';
import { toFlowJob, type ChildJob } from '../queues/flows.js';
import { pipelineJobId } from '../shared/eod-pipeline.contract.js';
import { completedPipelineDates, recentEodSessions } from '../shared/eod.js';
import type { JobHistoryRepository } from '../shared/job-history.repository.js';

/** What catch-up did: the dates it enqueued, oldest first, or why it left them alone. */
export interface CatchUp {
  added: string[];
  skipped?: string;
}

/**
 * Enqueues the end-of-day pipelines of the last `lookback` sessions that have none: no job
 * under the date's id in Redis and no completed run in job history. They are added as one
 * chained flow, each date a child of the next, so they run in date order; a date that fails
 * does not hold up the later ones. Only a deployment that is keeping up — one whose pipeline
 * completed for a session of the window — is caught up: on a fresh database, or one holding
 * only historical syncs, running today's sessions would build its universes forward past
 * anything historical still to be synced.
 */
export async function catchUpMissedSessions(
  deps: { history: Pick<JobHistoryRepository, 'completed'>; queue: Queue; flows: FlowProducer },
  now: number,
  lookback: number,
): Promise<CatchUp> {
  const sessions = recentEodSessions(now, lookback);
  const completed = await completedPipelineDates(deps.history, sessions);
  if (sessions.length > 0 && completed.size === 0) {
    return {
      added: [],
      skipped: `no end-of-day pipeline completed in the last ${sessions.length} sessions (${sessions[0]} … ${sessions[sessions.length - 1]}): not catching up; run the sessions you want with eod-pipeline, or let the 16:30 timer start the daily run`,
    };
  }
  const missing: string[] = [];
  const latest = sessions.filter((date) => completed.has(date)).pop()!;
  for (const date of sessions) {
    if (date <= latest) continue;
    if (await deps.queue.getJob(pipelineJobId(date))) continue;
    missing.push(date);
  }
  if (missing.length === 0) return { added: [] };
  let chain: ChildJob<'eod-pipeline'> | undefined;
  for (const date of missing) {
    chain = {
      name: 'eod-pipeline',
      payload: { date },
      jobId: pipelineJobId(date),
      onFailure: 'ignore',
      children: chain ? [chain] : undefined,
    };
  }
  await deps.flows.add(toFlowJob(chain!));
  return { added: missing };
}
