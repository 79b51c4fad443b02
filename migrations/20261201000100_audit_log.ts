import type { Knex } from 'knex';

/**
 * audit_log: one row per mutating API call or Bull Board action (enqueue, bulk, retry, redrive,
 * cancel …): who (the token's name, never its value), when, what, on which jobs, and how it ended.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('audit_log', (table) => {
    table.bigIncrements('id');
    table.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.text('actor').notNullable();
    table.text('action').notNullable();
    table.text('method').notNullable();
    table.text('route').notNullable();
    table.integer('status').notNullable();
    table.text('queue');
    table.text('job_name');
    table.specificType('job_ids', 'text[]').notNullable().defaultTo('{}');
    table.text('request_id').notNullable();
    table.jsonb('details').notNullable().defaultTo('{}');
    table.index(['at']);
    table.index(['action', 'at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('audit_log');
}
