import type { Knex } from 'knex';

/**
 * job_history is keyed by the job's queue, id and enqueue time: BullMQ ids restart from 1 when
 * Redis is reset, and a new job must never overwrite an older one's history. Rows written
 * before take their start (or finish) as enqueue time.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('job_history', (table) => {
    table.timestamp('enqueued_at', { useTz: true });
  });
  await knex('job_history').update({ enqueued_at: knex.raw('coalesce(started_at, finished_at)') });
  await knex.schema.alterTable('job_history', (table) => {
    table.dropPrimary();
    table.dropNullable('enqueued_at');
    table.primary(['queue', 'job_id', 'enqueued_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  // Keep the latest row of each job id, as the older key allowed only one.
  await knex.raw(
    `DELETE FROM job_history h USING job_history newer
     WHERE newer.queue = h.queue AND newer.job_id = h.job_id AND newer.enqueued_at > h.enqueued_at`,
  );
  await knex.schema.alterTable('job_history', (table) => {
    table.dropPrimary();
    table.dropColumn('enqueued_at');
    table.primary(['queue', 'job_id']);
  });
}
