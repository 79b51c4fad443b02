import type { Queryable } from '../shared/db.js';

/** A stored scenario run, as the API returns it. */
export interface ScenarioRunRow {
  id: string;
  scenario: string;
  seed: number;
  params: Record<string, unknown>;
  generator_version: string;
  symbols: string[];
  timeframe: string;
  targets: string[];
  start_date: string;
  sessions: number;
  target_schema: string;
  series: Array<{ timeframe: string; variant: string; rows: number }>;
  passed: boolean;
  failed_checks: string[];
  report: unknown;
  diagnostics: unknown;
  job_id: string | null;
  created_at: Date;
  loaded_at: Date;
}

/** A run as the job writes it (the timestamps are the database's). */
export type NewScenarioRun = Omit<ScenarioRunRow, 'created_at' | 'loaded_at'>;

const JSON_COLUMNS = ['params', 'series', 'failed_checks', 'report', 'diagnostics'] as const;

/** scenario_runs in the production schema: one row per run id, rewritten when a run is loaded again. */
export class ScenarioRunsRepository {
  constructor(
    private readonly db: Queryable,
    readonly schema: string,
  ) {}

  /** Inserts the run, or refreshes its report and load time when the same run is loaded again. */
  async upsert(run: NewScenarioRun): Promise<void> {
    const row: Record<string, unknown> = { ...run };
    // node-postgres would send a JS array as a PostgreSQL array; jsonb wants JSON text.
    for (const column of JSON_COLUMNS) row[column] = JSON.stringify(run[column]);
    await this.db
      .withSchema(this.schema)
      .table('scenario_runs')
      .insert(row)
      .onConflict('id')
      .merge(['report', 'passed', 'failed_checks', 'diagnostics', 'series', 'job_id', 'loaded_at']);
  }

  async find(id: string): Promise<ScenarioRunRow | undefined> {
    const row = await this.db
      .withSchema(this.schema)
      .table('scenario_runs')
      .select('*', this.db.raw(`to_char(start_date, 'YYYY-MM-DD') AS start_date`))
      .where({ id })
      .first();
    return row as ScenarioRunRow | undefined;
  }
}
