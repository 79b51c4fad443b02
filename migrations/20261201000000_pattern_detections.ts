import type { Knex } from 'knex';

/**
 * pattern_detections: one row per pattern found on a bar. The key carries the detector version,
 * so re-running the same version rewrites its own rows (idempotent) while a changed detector's
 * rows are stored beside the old ones for comparison. `variant` is the bars' variant ('' for
 * bars stored as they came, the session mode and alignment of aggregates), so detections on
 * regular and extended daily bars of the same day never overwrite each other.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('pattern_detections', (table) => {
    table.text('symbol').notNullable();
    table.text('timeframe').notNullable();
    table.text('variant').notNullable().defaultTo('');
    table.timestamp('ts', { useTz: true }).notNullable().comment("the bar's open instant, as in bars");
    table.text('pattern').notNullable();
    table.text('detector_version').notNullable();
    table.text('direction').notNullable();
    table.integer('strength').notNullable().comment('TA-Lib magnitude (80, 100, 200) or 100 for events');
    table.text('job_id');
    table.timestamp('detected_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.primary(['symbol', 'timeframe', 'variant', 'ts', 'pattern', 'detector_version']);
    table.index(['pattern', 'timeframe', 'ts']);
    table.index(['timeframe', 'ts']);
    table.check("direction IN ('bullish', 'bearish')", [], 'pattern_detections_direction');
    table.check('strength > 0', [], 'pattern_detections_strength');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('pattern_detections');
}
