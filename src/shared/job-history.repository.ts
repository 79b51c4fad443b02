import { createHash } from 'node:crypto';
import { ident, withClient, type Queryable } from './db.js';

export interface JobHistoryRow {
  queue: string;
  jobId: string;
  /** The id of the root job or API request the job descends from (its own id for a root). */
  correlationId: string;
  /** When the job was added: with queue and id, the row's key (ids repeat after a Redis reset). */
  enqueuedAt: Date;
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

/** Which history rows to list: all filters optional, newest first. */
export interface JobHistoryQuery {
  correlationId?: string;
  queue?: string;
  name?: string;
  outcome?: 'completed' | 'failed';
  limit: number;
}

/** A history row as the API shows it. */
export interface JobHistoryEntry {
  queue: string;
  jobId: string;
  name: string;
  correlationId: string | null;
  outcome: 'completed' | 'failed';
  attempts: number;
  enqueuedAt: string;
  startedAt: string | null;
  finishedAt: string;
  durationMs: number | null;
  summary: unknown;
  error: string | null;
}

interface JobHistoryDbRow {
  queue: string;
  job_id: string;
  name: string;
  correlation_id: string | null;
  outcome: 'completed' | 'failed';
  attempts: number;
  enqueued_at: Date;
  started_at: Date | null;
  finished_at: Date;
  duration_ms: number | null;
  summary: unknown;
  error: string | null;
}

/** Most rows one history statement writes. */
const MAX_BATCH = 500;
/** Most history statements in flight at once (each on its own pooled connection). */
const MAX_WRITERS = 4;

interface PendingRow {
  /** The row's key: queue, job id and enqueue time. */
  key: string;
  values: unknown[];
  written(): void;
  failed(error: unknown): void;
}

/** The columns a history row is written with, in the order of each row's JSON array, and each column's type. */
const RECORD_COLUMNS: ReadonlyArray<[column: string, type: string]> = [
  ['queue', 'text'],
  ['job_id', 'text'],
  ['correlation_id', 'text'],
  ['enqueued_at', 'timestamptz'],
  ['name', 'text'],
  ['outcome', 'text'],
  ['attempts', 'int'],
  ['started_at', 'timestamptz'],
  ['finished_at', 'timestamptz'],
  ['duration_ms', 'int'],
  ['summary', 'jsonb'],
  ['error', 'text'],
];

/**
 * The upsert of a batch of rows, sent as one JSON array of row arrays: the text is the same
 * for any number of rows, so PostgreSQL plans it once per connection, and one JSON.stringify
 * costs a fifth of what binding an array per column does. jsonb, not json: `->>` on a json
 * value parses its text again for every column.
 */
function recordStatement(schema: string): { name: string; text: string } {
  const columns = RECORD_COLUMNS.map(([column]) => column);
  const fields = RECORD_COLUMNS.map(([, type], i) => `(row->>${i})::${type}`);
  const key = ['queue', 'job_id', 'enqueued_at'];
  const text =
    `INSERT INTO ${ident(schema)}.job_history (${columns.join(', ')}) ` +
    `SELECT ${fields.join(', ')} FROM jsonb_array_elements($1::jsonb) AS row ` +
    `ON CONFLICT (${key.join(', ')}) DO UPDATE SET ` +
    columns
      .filter((column) => !key.includes(column))
      .map((column) => `${column} = excluded.${column}`)
      .join(', ');
  return { name: `job_history_record_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`, text };
}

/** A row as the statement's JSON array holds it, in the order of RECORD_COLUMNS (the summary as JSON text). */
function recordValues(row: JobHistoryRow): unknown[] {
  return [
    row.queue,
    row.jobId,
    row.correlationId,
    row.enqueuedAt.toISOString(),
    row.name,
    row.outcome,
    row.attempts,
    row.startedAt?.toISOString() ?? null,
    row.finishedAt.toISOString(),
    row.durationMs ?? null,
    boundedSummary(row.summary),
    row.error?.slice(0, 4_000) ?? null,
  ];
}

/**
 * One row per finished job, keyed by (queue, job id, enqueue time): a retried job updates its row.
 *
 * Rows are written with group commit: `record` resolves only once its row is committed, but
 * rows of jobs finishing while a write is in flight, or in the same turn of the event loop, go
 * together in the next statement, so a worker running many short jobs commits once per batch
 * instead of once per job.
 */
export class JobHistoryRepository {
  private pending: PendingRow[] = [];
  private writers = 0;
  private scheduled = false;
  private readonly statement: { name: string; text: string };

  constructor(
    private readonly db: Queryable,
    readonly schema: string,
  ) {
    this.statement = recordStatement(schema);
  }

  record(row: JobHistoryRow): Promise<void> {
    return new Promise<void>((written, failed) => {
      // Serialised here, so a summary that cannot be (a BigInt, a cycle) rejects this row alone, not its batch.
      const values = recordValues(row);
      this.pending.push({ key: `${row.queue}\n${row.jobId}\n${row.enqueuedAt.getTime()}`, values, written, failed });
      this.schedule();
    });
  }

  /** Writes what is pending on the next turn of the event loop, unless every writer is busy (one finishing writes it then). */
  private schedule(): void {
    if (this.scheduled || this.writers >= MAX_WRITERS || this.pending.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.write();
    });
  }

  private async write(): Promise<void> {
    if (this.writers >= MAX_WRITERS || this.pending.length === 0) return;
    this.writers++;
    const batch = this.pending.splice(0, MAX_BATCH);
    // One statement may not touch a row twice: keep the latest row of a job.
    const latest = new Map(batch.map(({ key, values }) => [key, values]));
    try {
      const rows = JSON.stringify([...latest.values()]);
      await withClient(this.db, (client) => client.query({ ...this.statement, values: [rows] }));
      for (const pending of batch) pending.written();
    } catch (error) {
      for (const pending of batch) pending.failed(error);
    } finally {
      this.writers--;
      this.schedule();
    }
  }

  /** History rows matching the query, newest first (by finish, then enqueue time). */
  async list(query: JobHistoryQuery): Promise<JobHistoryEntry[]> {
    const select = this.db.withSchema(this.schema).table<JobHistoryDbRow>('job_history');
    if (query.correlationId !== undefined) select.where('correlation_id', query.correlationId);
    if (query.queue !== undefined) select.where('queue', query.queue);
    if (query.name !== undefined) select.where('name', query.name);
    if (query.outcome !== undefined) select.where('outcome', query.outcome);
    const rows = (await select.orderBy([
      { column: 'finished_at', order: 'desc' },
      { column: 'enqueued_at', order: 'desc' },
    ]).limit(query.limit)) as JobHistoryDbRow[];
    return rows.map((row) => ({
      queue: row.queue,
      jobId: row.job_id,
      name: row.name,
      correlationId: row.correlation_id,
      outcome: row.outcome,
      attempts: row.attempts,
      enqueuedAt: row.enqueued_at.toISOString(),
      startedAt: row.started_at?.toISOString() ?? null,
      finishedAt: row.finished_at.toISOString(),
      durationMs: row.duration_ms,
      summary: row.summary,
      error: row.error,
    }));
  }

  /** Which of these jobs of a queue have a completed history row. */
  async completed(queue: string, jobIds: readonly string[]): Promise<Set<string>> {
    if (jobIds.length === 0) return new Set();
    const rows = await this.db
      .withSchema(this.schema)
      .table('job_history')
      .select<Array<{ job_id: string }>>('job_id')
      .where({ queue, outcome: 'completed' })
      .whereIn('job_id', [...jobIds]);
    return new Set(rows.map((row) => row.job_id));
  }

  /** Jobs that failed for good in the last `hours`, counted by queue and job name. */
  async recentFailures(hours: number): Promise<Array<{ queue: string; name: string; count: number }>> {
    const rows = await this.db
      .withSchema(this.schema)
      .table('job_history')
      .where('outcome', 'failed')
      .andWhere('finished_at', '>', this.db.raw(`now() - make_interval(hours => ?)`, [hours]))
      .select('queue', 'name')
      .count<Array<{ queue: string; name: string; count: number }>>({ count: '*' })
      .groupBy('queue', 'name');
    return rows.map((row) => ({ ...row, count: Number(row.count) }));
  }
}
