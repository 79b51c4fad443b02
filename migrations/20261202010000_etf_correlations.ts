import type { Knex } from 'knex';

/** Rolling return correlations of each ETF theme, one matrix per theme, window and trading date. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('etf_correlations', (table) => {
    table.text('universe').notNullable().references('key').inTable('universes').onDelete('CASCADE');
    table.integer('window').notNullable().comment('daily returns the matrix is computed over');
    table.date('trading_date').notNullable();
    table.jsonb('labels').notNullable().comment('members with bars, then the theme index, then the benchmark');
    table.jsonb('matrix').notNullable().comment('row-major correlations, null where a series is constant');
    table.integer('observations').notNullable();
    table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.primary(['universe', 'window', 'trading_date']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('etf_correlations');
}
