import type { Knex } from 'knex';

/**
 * Each history row names what it is part of: the id of the root job (or API request) a flow
 * child or a pipeline step descends from. Rows written before have none.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('job_history', (table) => {
    table.text('correlation_id');
    table.index(['correlation_id'], 'job_history_correlation_id');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('job_history', (table) => {
    table.dropIndex(['correlation_id'], 'job_history_correlation_id');
    table.dropColumn('correlation_id');
  });
}
