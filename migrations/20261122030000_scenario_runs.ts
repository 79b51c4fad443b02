import type { Knex } from 'knex';

/**
 * scenario_runs: one row per distinct synthetic run (its id is derived from everything that
 * decides its bars), with the validation report. The bars themselves live in a sandbox schema.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('scenario_runs', (table) => {
    table.text('id').primary();
    table.text('scenario').notNullable();
    table.bigInteger('seed').notNullable();
    table.jsonb('params').notNullable();
    table.text('generator_version').notNullable();
    table.specificType('symbols', 'text[]').notNullable();
    table.text('timeframe').notNullable();
    table.specificType('targets', 'text[]').notNullable();
    table.date('start_date').notNullable();
    table.integer('sessions').notNullable();
    table.text('target_schema').notNullable();
    table.jsonb('series').notNullable().comment('per stored timeframe: variant, rows');
    table.boolean('passed').notNullable();
    table.jsonb('failed_checks').notNullable();
    table.jsonb('report').notNullable();
    table.jsonb('diagnostics').notNullable();
    table.text('job_id');
    table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.timestamp('loaded_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.index(['scenario', 'created_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('scenario_runs');
}
