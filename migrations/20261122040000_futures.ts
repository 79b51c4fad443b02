import type { Knex } from 'knex';

/**
 * Futures contracts, their open interest, continuous series definitions and the roll events
 * of each built series. Contract daily bars live in `bars` under the contract code, a built
 * series in `bars` under its series symbol.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('futures_contracts', (table) => {
    table.text('contract').primary();
    table.text('root').notNullable();
    table.text('month_code').notNullable();
    table.date('contract_month').notNullable().comment('first day of the delivery month');
    table.date('last_trade_date').notNullable();
    table.date('first_notice_date');
    table
      .boolean('expiry_derived')
      .notNullable()
      .comment('true when last_trade_date follows from the root rule, not from the data');
    table.text('expiry_rule');
    table.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.index(['root', 'last_trade_date']);
    table.check("month_code IN ('F', 'G', 'H', 'J', 'K', 'M', 'N', 'Q', 'U', 'V', 'X', 'Z')", [], 'futures_contracts_month_code');
  });

  await knex.schema.createTable('futures_open_interest', (table) => {
    table.text('contract').notNullable().references('contract').inTable('futures_contracts').onDelete('CASCADE');
    table.date('date').notNullable().comment('trade date the figure is reported for');
    table.double('open_interest').notNullable();
    table.primary(['contract', 'date']);
    table.check('open_interest >= 0', [], 'futures_open_interest_nonnegative');
  });

  await knex.schema.createTable('continuous_series', (table) => {
    table.text('symbol').primary().comment('the bars symbol the series is stored under, such as ES.c.volume.ratio');
    table.text('root').notNullable();
    table.text('roll').notNullable();
    table.integer('roll_offset').notNullable();
    table.text('adjust').notNullable();
    table.text('timeframe').notNullable().defaultTo('1d');
    table.specificType('contracts', 'text[]').notNullable().comment('contracts held, in order');
    table.integer('bars').notNullable();
    table.date('first_date');
    table.date('last_date');
    table.timestamp('built_at', { useTz: true }).notNullable();
    table.text('job_id');
    table.jsonb('report').notNullable().defaultTo('{}');
    table.unique(['root', 'roll', 'roll_offset', 'adjust']);
    table.check("roll IN ('calendar', 'volume', 'open_interest')", [], 'continuous_series_roll');
    table.check("adjust IN ('none', 'difference', 'ratio')", [], 'continuous_series_adjust');
    table.check('roll_offset >= 0', [], 'continuous_series_roll_offset');
  });

  await knex.schema.createTable('roll_events', (table) => {
    table.text('series').notNullable().references('symbol').inTable('continuous_series').onDelete('CASCADE');
    table.date('roll_date').notNullable().comment('first session held in to_contract');
    table.date('reference_date').comment('session whose closes measure the spread; null when none had both');
    table.text('from_contract').notNullable();
    table.text('to_contract').notNullable();
    table.double('from_close');
    table.double('to_close');
    table.text('trigger').notNullable();
    table.double('difference');
    table.double('ratio');
    table
      .double('cumulative_adjustment')
      .comment('added to (difference) or multiplying (ratio) the prices held in from_contract');
    table.text('issue').comment('missing or moved data, in words; null for a clean roll');
    table.primary(['series', 'roll_date']);
    table.check("trigger IN ('calendar', 'volume', 'open_interest', 'forced')", [], 'roll_events_trigger');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('roll_events');
  await knex.schema.dropTableIfExists('continuous_series');
  await knex.schema.dropTableIfExists('futures_open_interest');
  await knex.schema.dropTableIfExists('futures_contracts');
}
