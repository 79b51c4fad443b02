import type { Knex } from 'knex';
import { createBarsTable, dropBarsTable } from '../src/bars/table.js';

async function currentSchema(knex: Knex): Promise<string> {
  const result = await knex.raw<{ rows: Array<{ schema: string }> }>('SELECT current_schema() AS schema');
  return result.rows[0].schema;
}

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('symbols', (table) => {
    table.text('symbol').primary();
    table.text('name');
    table.text('kind').notNullable().defaultTo('stock');
    table.text('sector');
    table.text('industry');
    table.text('exchange');
    table.double('shares_outstanding');
    table.double('market_cap');
    table.double('avg_volume');
    table.text('theme');
    table.double('aum');
    table.double('expense_ratio');
    table.date('ipo_date');
    table.date('delisted_at');
    table.text('status').notNullable().defaultTo('active');
    table.jsonb('metadata').notNullable().defaultTo('{}');
    table.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.check("kind IN ('stock', 'etf', 'future', 'index')", [], 'symbols_kind');
    table.check("status IN ('active', 'inactive', 'delisted')", [], 'symbols_status');
  });

  await createBarsTable(knex, await currentSchema(knex));

  await knex.schema.createTable('job_history', (table) => {
    table.text('queue').notNullable();
    table.text('job_id').notNullable();
    table.text('name').notNullable();
    table.text('outcome').notNullable();
    table.integer('attempts').notNullable();
    table.timestamp('started_at', { useTz: true });
    table.timestamp('finished_at', { useTz: true }).notNullable();
    table.integer('duration_ms');
    table.jsonb('summary');
    table.text('error');
    table.primary(['queue', 'job_id']);
    table.index(['name', 'finished_at']);
    table.check("outcome IN ('completed', 'failed')", [], 'job_history_outcome');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('job_history');
  await dropBarsTable(knex, await currentSchema(knex));
  await knex.schema.dropTableIfExists('symbols');
}
