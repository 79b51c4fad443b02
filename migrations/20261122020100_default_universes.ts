import type { Knex } from 'knex';
import { defaultEtfFunds, defaultUniverses } from '../src/universes/universes.js';

/**
 * Seeds the universes tickforge ships (top_100/500/1000, ipo_recent, the seven ETF themes)
 * and a symbol row for each default ETF, so a fund without reference data can still be a
 * (flagged) member. Existing rows are left alone: a filter changed by hand stays changed.
 */
export async function up(knex: Knex): Promise<void> {
  await knex('universes')
    .insert(
      defaultUniverses().map((universe) => ({
        key: universe.key,
        category: universe.category,
        description: universe.description,
        liquidity_filter: JSON.stringify(universe.liquidityFilter),
        metadata: JSON.stringify(universe.metadata),
      })),
    )
    .onConflict('key')
    .ignore();
  await knex('symbols')
    .insert(defaultEtfFunds().map((fund) => ({ symbol: fund.symbol, name: fund.name, kind: 'etf' })))
    .onConflict('symbol')
    .ignore();
}

/** Nothing to undo here: the seeded universes go with the tables the previous migration drops. */
export async function down(): Promise<void> {}
