import pg from 'pg';

/** A table's row count and a checksum of its whole content. */
export interface TableFingerprint {
  rows: number;
  /** md5 of every row's text form, rows in text order: equal content, equal checksum. */
  checksum: string;
}

/** Tables and partitioned tables of the schemas, without the partitions themselves (their parent covers them). */
const TABLES = `
  SELECT n.nspname AS schema, c.relname AS name
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname = ANY($1::text[])
  ORDER BY 1, 2`;

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Every table of the schemas with its fingerprint, keyed `schema.table`. */
export async function tableFingerprints(databaseUrl: string, schemas: string[]): Promise<Record<string, TableFingerprint>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    // One snapshot for every table, as a backup sees them.
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const tables = await client.query<{ schema: string; name: string }>(TABLES, [schemas]);
    const fingerprints: Record<string, TableFingerprint> = {};
    for (const { schema, name } of tables.rows) {
      const table = `${quote(schema)}.${quote(name)}`;
      const { rows } = await client.query<{ rows: string; checksum: string }>(
        `SELECT count(*) AS rows, md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) AS checksum FROM ${table} t`,
      );
      fingerprints[`${schema}.${name}`] = { rows: Number(rows[0].rows), checksum: rows[0].checksum };
    }
    await client.query('COMMIT');
    return fingerprints;
  } finally {
    await client.end();
  }
}

/** The user tables of a database, `schema.table`; an empty list means the database is empty. */
export async function userTables(databaseUrl: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ table: string }>(
      `SELECT schemaname || '.' || tablename AS table FROM pg_tables
       WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`,
    );
    return rows.map((row) => row.table);
  } finally {
    await client.end();
  }
}
