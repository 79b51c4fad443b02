import type { Knex } from 'knex';

/**
 * The pattern analytics' tables:
 * - `pattern_detections.id`: a short, stable id per detection (what the predictions route
 *   calls `patternId`, and the outcomes' key); an upsert of a detection keeps it.
 * - `pattern_outcomes`: what followed each detection, measured with the settings stored in the
 *   row; `complete` is false while later bars are still needed, and such rows are relabelled.
 * - `market_context`: a benchmark's trend and volatility regime per session.
 * - `pattern_analyses`: one analysis per scope and as-of date, its results as the routes serve them.
 */
export async function up(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasColumn('pattern_detections', 'id'))) {
    await knex.raw('ALTER TABLE ?? ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY UNIQUE', ['pattern_detections']);
  }
  await knex.schema.createTable('pattern_outcomes', (table) => {
    table.bigInteger('detection_id').primary().references('id').inTable('pattern_detections').onDelete('CASCADE');
    table.double('forward_1');
    table.double('forward_5');
    table.double('forward_20');
    table.double('favourable').comment('best move in the pattern direction within the excursion window, ≥ 0');
    table.double('adverse').comment('worst move against the pattern direction within the window, ≤ 0');
    table.smallint('success').comment('1 success, 0 failure, null while pending');
    table.double('success_return').comment('forward return at the success horizon');
    table.timestamp('known_at', { useTz: true }).comment('ts of the bar at the success horizon');
    table.integer('success_horizon').notNullable();
    table.double('success_threshold').notNullable();
    table.boolean('complete').notNullable();
    table.timestamp('labelled_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.index(['complete']);
  });
  await knex.schema.createTable('market_context', (table) => {
    table.text('benchmark').notNullable();
    table.date('session_date').notNullable();
    table.text('regime').comment('bull, bear or neutral; null before enough history');
    table.text('volatility_regime').comment('low, normal or high; null before enough history');
    table.double('realised_volatility');
    table.primary(['benchmark', 'session_date']);
  });
  await knex.schema.createTable('pattern_analyses', (table) => {
    table.bigIncrements('id');
    table.text('scope_key').notNullable().comment('timeframe, universe, range, detector version and patterns, as one key');
    table.jsonb('scope').notNullable();
    table.date('as_of').notNullable();
    table.jsonb('settings').notNullable();
    table.integer('detections').notNullable();
    table.jsonb('results').notNullable();
    table.text('job_id');
    table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.unique(['scope_key', 'as_of']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('pattern_analyses');
  await knex.schema.dropTableIfExists('market_context');
  await knex.schema.dropTableIfExists('pattern_outcomes');
  if (await knex.schema.hasColumn('pattern_detections', 'id')) {
    await knex.schema.alterTable('pattern_detections', (table) => table.dropColumn('id'));
  }
}
