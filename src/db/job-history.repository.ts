import type { Knex } from 'knex';

export interface JobHistoryRow {
  queue: string;
  jobId: string;
  name: string;
  outcome: 'completed' | 'failed';
  attempts: number;
  startedAt?: Date;
  finishedAt: Date;
  durationMs?: number;
  summary?: unknown;
  error?: string;
}

/** Largest summary kept in a history row; bigger results are cut to their headline fields. */
const MAX_SUMMARY_CHARS = 64 * 1024;

function boundedSummary(summary: unknown): unknown {
  if (summary === undefined) return null;
  const text = JSON.stringify(summary) ?? 'null';
  if (text.length <= MAX_SUMMARY_CHARS) return text;
  if (summary && typeof summary === 'object' && !Array.isArray(summary)) {
    const headline = Object.fromEntries(
      Object.entries(summary as Record<string, unknown>).filter(([, value]) => value === null || typeof value !== 'object'),
    );
    return JSON.stringify({ ...headline, truncated: true });
  }
  return JSON.stringify({ truncated: true });
}

/** One row per finished job, keyed by (queue, job id): a retried job updates its row. */
export class JobHistoryRepository {
  constructor(private readonly db: Knex) {}

  async record(row: JobHistoryRow): Promise<void> {
    await this.db('job_history')
      .insert({
        queue: row.queue,
        job_id: row.jobId,
        name: row.name,
        outcome: row.outcome,
        attempts: row.attempts,
        started_at: row.startedAt ?? null,
        finished_at: row.finishedAt,
        duration_ms: row.durationMs ?? null,
        summary: boundedSummary(row.summary),
        error: row.error?.slice(0, 4_000) ?? null,
      })
      .onConflict(['queue', 'job_id'])
      .merge();
  }

  async find(queue: string, jobId: string) {
    return this.db('job_history').where({ queue, job_id: jobId }).first();
  }
}
