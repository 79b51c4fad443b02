import type { Knex } from 'knex';
import { DEFAULT_ETF_THEMES, IPO_UNIVERSE, defaultEtfFunds, etfUniverseKey } from '../src/universes/universes.js';

/**
 * ETF themes by rule: each theme's universe names its anchors (metadata.anchors, replacing the
 * fixed candidate list) and gets the report's default filter; a symbol row is added for each new
 * anchor (VTI), so an anchor without reference data can still be a flagged member. The IPO
 * universe gets its market-cap floor.
 */
export async function up(knex: Knex): Promise<void> {
  for (const theme of DEFAULT_ETF_THEMES) {
    await knex('universes')
      .where({ key: etfUniverseKey(theme.theme) })
      .update({
        description: theme.description,
        liquidity_filter: JSON.stringify(theme.filter),
        metadata: JSON.stringify({ theme: theme.theme, anchors: theme.anchors.map(([symbol]) => symbol) }),
      });
  }
  await knex('universes')
    .where({ key: IPO_UNIVERSE.key })
    .update({ description: IPO_UNIVERSE.description, liquidity_filter: JSON.stringify(IPO_UNIVERSE.liquidityFilter) });
  await knex('symbols')
    .insert(defaultEtfFunds().map((fund) => ({ symbol: fund.symbol, name: fund.name, kind: 'etf' })))
    .onConflict('symbol')
    .ignore();
}

/** The fixed candidate lists are not restored: the next sync rebuilds the themes either way. */
export async function down(): Promise<void> {}
