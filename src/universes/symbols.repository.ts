import type { Knex } from 'knex';
import type { SymbolRecord } from './symbol-rows.js';

export interface SymbolUpsertCounts {
  inserted: number;
  updated: number;
  unchanged: number;
}

/** Columns an import may set, with their SQL types for jsonb_to_recordset. */
const COLUMNS = [
  ['name', 'text'],
  ['kind', 'text'],
  ['sector', 'text'],
  ['industry', 'text'],
  ['exchange', 'text'],
  ['shares_outstanding', 'double precision'],
  ['market_cap', 'double precision'],
  ['avg_volume', 'double precision'],
  ['theme', 'text'],
  ['aum', 'double precision'],
  ['expense_ratio', 'double precision'],
  ['ipo_date', 'date'],
  ['delisted_at', 'date'],
  ['status', 'text'],
  ['metadata', 'jsonb'],
] as const;

/** What each column becomes when an input row meets a stored one (i = input, t = table). */
function mergedValue(column: (typeof COLUMNS)[number][0]): string {
  switch (column) {
    case 'metadata':
      return `t.metadata || coalesce(i.metadata, '{}'::jsonb)`;
    case 'delisted_at':
      // Setting a symbol active again clears its delisting unless the row gives a new one.
      return `CASE WHEN i.delisted_at IS NOT NULL THEN i.delisted_at WHEN i.status = 'active' THEN NULL ELSE t.delisted_at END`;
    default:
      return `coalesce(i.${column}, t.${column})`;
  }
}

/**
 * Upserts symbol reference data in one statement inside the caller's transaction: new symbols
 * are inserted with defaults (kind stock, status active); known ones take every field the
 * record gives and keep the rest. Rows whose values would not change are not touched.
 */
export async function upsertSymbols(trx: Knex.Transaction, records: readonly SymbolRecord[]): Promise<SymbolUpsertCounts> {
  // Imports of the same symbols must not interleave between the insert and the update.
  await trx.raw(`SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.symbols import'))`);
  const recordType = ['symbol text', ...COLUMNS.map(([name, type]) => `${name} ${type}`)].join(', ');
  const names = COLUMNS.map(([name]) => name);
  const result = await trx.raw<{ rows: Array<{ total: number; inserted: number; updated: number }> }>(
    `
    WITH input AS (SELECT * FROM jsonb_to_recordset(?::jsonb) AS i(${recordType})),
    inserted AS (
      INSERT INTO symbols AS t (symbol, ${names.join(', ')})
      SELECT i.symbol, ${names
        .map((name) =>
          name === 'kind'
            ? `coalesce(i.kind, 'stock')`
            : name === 'status'
              ? `coalesce(i.status, 'active')`
              : name === 'metadata'
                ? `coalesce(i.metadata, '{}'::jsonb)`
                : `i.${name}`,
        )
        .join(', ')}
      FROM input i
      ON CONFLICT (symbol) DO NOTHING
      RETURNING t.symbol
    ),
    updated AS (
      UPDATE symbols AS t SET ${names.map((name) => `${name} = ${mergedValue(name)}`).join(', ')}, updated_at = now()
      FROM input i
      WHERE t.symbol = i.symbol
        AND NOT EXISTS (SELECT 1 FROM inserted n WHERE n.symbol = i.symbol)
        AND (${names.map((name) => `t.${name}`).join(', ')}) IS DISTINCT FROM (${names.map(mergedValue).join(', ')})
      RETURNING t.symbol
    )
    SELECT (SELECT count(*) FROM input) AS total, (SELECT count(*) FROM inserted) AS inserted, (SELECT count(*) FROM updated) AS updated`,
    [JSON.stringify(records)],
  );
  const { total, inserted, updated } = result.rows[0];
  return { inserted, updated, unchanged: total - inserted - updated };
}
