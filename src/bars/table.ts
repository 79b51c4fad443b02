import type { Knex } from 'knex';
import { ident } from '../shared/db.js';

/** Yearly partitions are created for these years; anything outside lands in the default one. */
export const PARTITION_YEARS = { first: 1990, last: 2040 } as const;

/**
 * Creates `<schema>.bars`: range-partitioned by ts (a partition per year plus a default),
 * keyed by (symbol, timeframe, variant, ts). `variant` is '' for bars stored as they came and
 * names the session mode and alignment of an aggregate, so a regular-session daily bar and an
 * extended-session one with the same ts are both kept.
 */
export async function createBarsTable(knex: Knex, schema: string): Promise<void> {
  const table = `${ident(schema)}.bars`;
  await knex.raw(`
    CREATE TABLE ${table} (
      symbol      text             NOT NULL,
      timeframe   text             NOT NULL,
      variant     text             NOT NULL DEFAULT '',
      ts          timestamptz      NOT NULL,
      open        double precision NOT NULL,
      high        double precision NOT NULL,
      low         double precision NOT NULL,
      close       double precision NOT NULL,
      volume      double precision NOT NULL,
      vwap        double precision,
      trade_count integer,
      source      text             NOT NULL DEFAULT 'provider',
      CONSTRAINT bars_pkey PRIMARY KEY (symbol, timeframe, variant, ts),
      CONSTRAINT bars_ohlc CHECK (low <= least(open, close) AND high >= greatest(open, close)),
      CONSTRAINT bars_volume CHECK (volume >= 0),
      CONSTRAINT bars_source CHECK (source IN ('provider', 'aggregate', 'fill', 'scenario', 'continuous'))
    ) PARTITION BY RANGE (ts)`);
  const statements: string[] = [];
  for (let year = PARTITION_YEARS.first; year <= PARTITION_YEARS.last; year++) {
    statements.push(
      `CREATE TABLE ${ident(schema)}.${ident(`bars_y${year}`)} PARTITION OF ${table}
         FOR VALUES FROM ('${year}-01-01 00:00:00+00') TO ('${year + 1}-01-01 00:00:00+00')`,
    );
  }
  statements.push(`CREATE TABLE ${ident(schema)}.bars_default PARTITION OF ${table} DEFAULT`);
  await knex.raw(statements.join(';\n'));
}

export async function dropBarsTable(knex: Knex, schema: string): Promise<void> {
  await knex.raw(`DROP TABLE IF EXISTS ${ident(schema)}.bars CASCADE`);
}
