import type { FlowProducer, Queue } from 'bullmq';
import { toFlowJob, type ChildJob } from '../queues/flows.js';
import { pipelineJobId } from '../shared/eod-pipeline.contract.js';
import { completedPipelineDates, recentEodSessions } from '../shared/eod.js';
import type { JobHistoryRepository } from '../shared/job-history.repository.js';

/**
 * Enqueues the end-of-day pipelines of the last `lookback` sessions that have none: no job
 * under the date's id in Redis and no completed run in job history. They are added as one
 * chained flow, each date a child of the next, so they run in date order; a date that fails
 * does not hold up the later ones. Returns the dates added, oldest first.
 */
export async function catchUpMissedSessions(
  deps: { history: Pick<JobHistoryRepository, 'completed'>; queue: Queue; flows: FlowProducer },
  now: number,
  lookback: number,
): Promise<string[]> {
  const sessions = recentEodSessions(now, lookback);
  const completed = await completedPipelineDates(deps.history, sessions);
  const missing: string[] = [];
  for (const date of sessions) {
    if (completed.has(date)) continue;
    if (await deps.queue.getJob(pipelineJobId(date))) continue;
    missing.push(date);
  }
  if (missing.length === 0) return [];
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
  return missing;
}
