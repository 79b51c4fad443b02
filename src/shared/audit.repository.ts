import type { Queryable } from './db.js';

/** One mutating call as the audit trail keeps it. */
export interface AuditEntry {
  at: string;
  actor: string;
  action: string;
  method: string;
  route: string;
  status: number;
  queue: string | null;
  jobName: string | null;
  jobIds: string[];
  requestId: string;
}

export interface AuditQuery {
  action?: string;
  since?: Date;
  limit: number;
}

interface AuditRow {
  at: Date;
  actor: string;
  action: string;
  method: string;
  route: string;
  status: number;
  queue: string | null;
  job_name: string | null;
  job_ids: string[];
  request_id: string;
}

/** The one writer and reader of `audit_log`. */
export class AuditRepository {
  constructor(private readonly db: Queryable) {}

  async record(entry: Omit<AuditEntry, 'at'>): Promise<void> {
    await this.db('audit_log').insert({
      actor: entry.actor,
      action: entry.action,
      method: entry.method,
      route: entry.route,
      status: entry.status,
      queue: entry.queue,
      job_name: entry.jobName,
      job_ids: entry.jobIds,
      request_id: entry.requestId,
    });
  }

  /** Entries newest first, optionally of one action and since an instant. */
  async list(query: AuditQuery): Promise<AuditEntry[]> {
    const select = this.db<AuditRow>('audit_log').orderBy('id', 'desc').limit(query.limit);
    if (query.action) select.where('action', query.action);
    if (query.since) select.where('at', '>=', query.since);
    const rows = (await select) as AuditRow[];
    return rows.map((row) => ({
      at: row.at.toISOString(),
      actor: row.actor,
      action: row.action,
      method: row.method,
      route: row.route,
      status: row.status,
      queue: row.queue,
      jobName: row.job_name,
      jobIds: row.job_ids,
      requestId: String(row.request_id),
    }));
  }
}
