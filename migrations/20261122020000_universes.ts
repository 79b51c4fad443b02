import type { Knex } from 'knex';

/**
 * Universes, their point-in-time membership, the audit trail of the end-of-day sync and the
 * per-task sync state. Membership rows are spells [added_at, removed_at): closed, never deleted.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('symbols', (table) => {
    table.date('market_cap_date').comment('session date of the close the market cap was last computed from');
    table.index(['kind', 'status'], 'symbols_kind_status');
    table.index(['sector'], 'symbols_sector');
    table.index(['theme'], 'symbols_theme');
  });
  await knex.raw('CREATE INDEX symbols_metadata_gin ON symbols USING gin (metadata jsonb_path_ops)');

  await knex.schema.createTable('universes', (table) => {
    table.text('key').primary();
    table.text('category').notNullable();
    table.text('description').notNullable().defaultTo('');
    table.jsonb('liquidity_filter').notNullable().defaultTo('{}');
    table.jsonb('metadata').notNullable().defaultTo('{}');
    table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.timestamp('last_universe_update', { useTz: true });
    table.check("key ~ '^[a-z][a-z0-9_]{0,62}$'", [], 'universes_key');
    table.check("category IN ('size', 'sector', 'ipo', 'etf_theme', 'custom')", [], 'universes_category');
    table.index(['category'], 'universes_category_idx');
  });
  await knex.raw('CREATE INDEX universes_liquidity_filter_gin ON universes USING gin (liquidity_filter)');
  await knex.raw('CREATE INDEX universes_metadata_gin ON universes USING gin (metadata)');

  await knex.schema.createTable('universe_members', (table) => {
    table.text('universe').notNullable().references('key').inTable('universes').onDelete('RESTRICT');
    table.text('symbol').notNullable().references('symbol').inTable('symbols').onDelete('RESTRICT');
    table.date('added_at').notNullable();
    table.date('removed_at');
    table.jsonb('flags').notNullable().defaultTo('{}');
    table.primary(['universe', 'symbol', 'added_at']);
    table.check('removed_at IS NULL OR removed_at >= added_at', [], 'universe_members_spell');
    table.index(['symbol'], 'universe_members_symbol');
  });
  // At most one open spell per universe and symbol; also the index of "current members" reads.
  await knex.raw('CREATE UNIQUE INDEX universe_members_open ON universe_members (universe, symbol) WHERE removed_at IS NULL');
  await knex.raw('CREATE INDEX universe_members_flags_gin ON universe_members USING gin (flags)');

  await knex.schema.createTable('sync_changes_log', (table) => {
    table.bigIncrements('id').primary();
    table.text('run_id').notNullable();
    table.date('trading_date').notNullable();
    table.text('task').notNullable();
    table.text('universe').references('key').inTable('universes').onDelete('RESTRICT');
    table.text('symbol').notNullable();
    table.text('change').notNullable();
    table.text('reason').notNullable();
    table.jsonb('before');
    table.jsonb('after');
    table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.check("change IN ('added', 'removed', 'updated')", [], 'sync_changes_log_change');
    table.index(['run_id'], 'sync_changes_log_run');
    table.index(['universe', 'id'], 'sync_changes_log_universe');
    table.index(['symbol', 'trading_date'], 'sync_changes_log_symbol');
  });

  await knex.schema.createTable('sync_runs', (table) => {
    table.text('run_id').primary();
    table.date('trading_date').notNullable();
    table.text('status').notNullable().defaultTo('running');
    table.timestamp('started_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.timestamp('finished_at', { useTz: true });
    table.jsonb('summary');
    table.check("status IN ('running', 'completed')", [], 'sync_runs_status');
    table.index(['trading_date'], 'sync_runs_trading_date');
  });

  await knex.schema.createTable('sync_task_state', (table) => {
    table.text('task').primary();
    table.date('synced_through').notNullable();
    table.text('run_id').notNullable();
    table.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('sync_task_state');
  await knex.schema.dropTableIfExists('sync_runs');
  await knex.schema.dropTableIfExists('sync_changes_log');
  await knex.schema.dropTableIfExists('universe_members');
  await knex.schema.dropTableIfExists('universes');
  await knex.raw('DROP INDEX IF EXISTS symbols_metadata_gin');
  await knex.schema.alterTable('symbols', (table) => {
    table.dropIndex([], 'symbols_kind_status');
    table.dropIndex([], 'symbols_sector');
    table.dropIndex([], 'symbols_theme');
    table.dropColumn('market_cap_date');
  });
}
