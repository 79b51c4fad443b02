import { z } from 'zod';
import { NYSE } from '../shared/calendar.js';
import { localMidnight } from '../shared/zone.js';

/** The five tasks of the end-of-day universe sync. */
export const SYNC_TASKS = [
  'market_cap_recalculation',
  'ipo_universe_assignment',
  'delisted_cleanup',
  'theme_rebalancing',
  'etf_universe_maintenance',
] as const;
export type SyncTask = (typeof SYNC_TASKS)[number];

/** What a universe is built from: see docs/universes.md. */
export const UNIVERSE_CATEGORIES = ['size', 'sector', 'ipo', 'etf_theme', 'custom'] as const;
export type UniverseCategory = (typeof UNIVERSE_CATEGORIES)[number];

export const UNIVERSE_KEY_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;
export const universeKeySchema = z.string().regex(UNIVERSE_KEY_PATTERN, 'must be a universe key such as top_100 or etf_growth');

/** A stock is a recent IPO while its IPO date lies in (date − 90 days, date]. */
export const IPO_WINDOW_DAYS = 90;
/** Average volume is taken over this many sessions of daily bars up to the sync date. */
export const AVG_VOLUME_SESSIONS = 20;
export const EXCHANGE_TIME_ZONE = 'America/New_York';

const nonNegative = z.number().finite().nonnegative();

/** Filter of a sector theme: stocks below either threshold stay out. */
export const sectorFilterSchema = z
  .object({
    min_avg_volume: nonNegative.describe('average daily volume in shares'),
    min_last_close: nonNegative.describe('last daily close in USD'),
  })
  .strict();
export type SectorFilter = z.infer<typeof sectorFilterSchema>;

/**
 * Filter of an ETF theme, the report's strict inequalities: AUM above min_aum, average volume
 * above min_avg_volume, expense ratio below max_expense_ratio. A fund failing a known threshold
 * stays out unless it is a named anchor.
 */
export const etfFilterSchema = z
  .object({
    min_aum: nonNegative.describe('assets under management in USD'),
    min_avg_volume: nonNegative.describe('average daily volume in shares'),
    max_expense_ratio: z.number().min(0).max(1).describe('a fraction: 0.0075 is 0.75 %'),
  })
  .strict();
export type EtfFilter = z.infer<typeof etfFilterSchema>;

/** The filter sector themes get when the sync first meets their sector. */
export const DEFAULT_SECTOR_FILTER: SectorFilter = { min_avg_volume: 500_000, min_last_close: 5 };

/** The size universes: active stocks ranked by market cap, ties by symbol. */
export const SIZE_UNIVERSES = [100, 500, 1000].map((size) => ({
  key: `top_${size}`,
  category: 'size' as const,
  description: `The ${size} largest active stocks by market cap (ties by symbol)`,
  liquidityFilter: {},
  metadata: { size },
}));

/** The smallest market cap (USD) a recent IPO needs for ipo_recent: below it, a micro-cap listing. */
export const IPO_MIN_MARKET_CAP = 100_000_000;

export const IPO_UNIVERSE = {
  key: 'ipo_recent',
  category: 'ipo' as const,
  description: `Active stocks whose IPO was within the last ${IPO_WINDOW_DAYS} calendar days, with a market cap of at least ${IPO_MIN_MARKET_CAP / 1e6} M USD`,
  liquidityFilter: { min_market_cap: IPO_MIN_MARKET_CAP },
  metadata: { window_days: IPO_WINDOW_DAYS },
};

/** One ETF theme: its named anchors and its default filter (see etf-themes.ts for its rule). */
export interface EtfTheme {
  theme: string;
  description: string;
  /** The report's thresholds for the theme, before any override from TICKFORGE_ETF_FILTERS. */
  filter: EtfFilter;
  /** The theme's named anchors, [symbol, fund name]: members even when they fail the filter (flagged). */
  anchors: ReadonlyArray<readonly [string, string]>;
}

/** The report's filter: above 1 B USD AUM, above 5 M shares a day, below 0.75 % a year. */
export const DEFAULT_ETF_FILTER: EtfFilter = { min_aum: 1_000_000_000, min_avg_volume: 5_000_000, max_expense_ratio: 0.0075 };

/**
 * The seven ETF themes of the TickStock report. Members are chosen by rule from the reference
 * data (etf-themes.ts); the anchors are kept whatever the filter says. XLK anchors both the
 * sectors and the technology theme, so the themes name 59 distinct anchors.
 */
export const DEFAULT_ETF_THEMES: readonly EtfTheme[] = [
  {
    theme: 'sectors',
    description: 'US sector equity funds, anchored by the SPDR Select Sector funds',
    filter: DEFAULT_ETF_FILTER,
    anchors: [
      ['XLB', 'Materials Select Sector SPDR Fund'],
      ['XLC', 'Communication Services Select Sector SPDR Fund'],
      ['XLE', 'Energy Select Sector SPDR Fund'],
      ['XLF', 'Financial Select Sector SPDR Fund'],
      ['XLI', 'Industrial Select Sector SPDR Fund'],
      ['XLK', 'Technology Select Sector SPDR Fund'],
      ['XLP', 'Consumer Staples Select Sector SPDR Fund'],
      ['XLRE', 'Real Estate Select Sector SPDR Fund'],
      ['XLU', 'Utilities Select Sector SPDR Fund'],
      ['XLV', 'Health Care Select Sector SPDR Fund'],
      ['XLY', 'Consumer Discretionary Select Sector SPDR Fund'],
    ],
  },
  {
    theme: 'growth',
    description: 'US growth equity funds and the total market',
    filter: DEFAULT_ETF_FILTER,
    anchors: [
      ['VUG', 'Vanguard Growth ETF'],
      ['IVW', 'iShares S&P 500 Growth ETF'],
      ['SCHG', 'Schwab U.S. Large-Cap Growth ETF'],
      ['VTI', 'Vanguard Total Stock Market ETF'],
      ['IWF', 'iShares Russell 1000 Growth ETF'],
      ['SPYG', 'SPDR Portfolio S&P 500 Growth ETF'],
      ['MGK', 'Vanguard Mega Cap Growth ETF'],
      ['VONG', 'Vanguard Russell 1000 Growth ETF'],
      ['IWO', 'iShares Russell 2000 Growth ETF'],
    ],
  },
  {
    theme: 'value',
    description: 'US value and dividend equity funds',
    filter: DEFAULT_ETF_FILTER,
    anchors: [
      ['VTV', 'Vanguard Value ETF'],
      ['IVE', 'iShares S&P 500 Value ETF'],
      ['VYM', 'Vanguard High Dividend Yield ETF'],
      ['SCHV', 'Schwab U.S. Large-Cap Value ETF'],
      ['IWD', 'iShares Russell 1000 Value ETF'],
      ['SPYV', 'SPDR Portfolio S&P 500 Value ETF'],
      ['VOE', 'Vanguard Mid-Cap Value ETF'],
      ['DVY', 'iShares Select Dividend ETF'],
    ],
  },
  {
    theme: 'international',
    description: 'Developed and emerging market equity funds outside the US',
    filter: { ...DEFAULT_ETF_FILTER, min_aum: 500_000_000 },
    anchors: [
      ['VEA', 'Vanguard FTSE Developed Markets ETF'],
      ['VWO', 'Vanguard FTSE Emerging Markets ETF'],
      ['IEFA', 'iShares Core MSCI EAFE ETF'],
      ['EEM', 'iShares MSCI Emerging Markets ETF'],
      ['EFA', 'iShares MSCI EAFE ETF'],
      ['IEMG', 'iShares Core MSCI Emerging Markets ETF'],
      ['VXUS', 'Vanguard Total International Stock ETF'],
      ['SCHF', 'Schwab International Equity ETF'],
    ],
  },
  {
    theme: 'commodities',
    description: 'Commodity baskets, precious metals, energy and agriculture',
    filter: { ...DEFAULT_ETF_FILTER, min_aum: 200_000_000 },
    anchors: [
      ['GLD', 'SPDR Gold Shares'],
      ['SLV', 'iShares Silver Trust'],
      ['DBA', 'Invesco DB Agriculture Fund'],
      ['USO', 'United States Oil Fund'],
      ['IAU', 'iShares Gold Trust'],
      ['PDBC', 'Invesco Optimum Yield Diversified Commodity Strategy No K-1 ETF'],
      ['DBC', 'Invesco DB Commodity Index Tracking Fund'],
      ['GLDM', 'SPDR Gold MiniShares Trust'],
    ],
  },
  {
    theme: 'technology',
    description: 'Technology, semiconductor and software funds',
    filter: DEFAULT_ETF_FILTER,
    anchors: [
      ['QQQ', 'Invesco QQQ Trust'],
      ['XLK', 'Technology Select Sector SPDR Fund'],
      ['VGT', 'Vanguard Information Technology ETF'],
      ['FTEC', 'Fidelity MSCI Information Technology Index ETF'],
      ['IYW', 'iShares U.S. Technology ETF'],
      ['SMH', 'VanEck Semiconductor ETF'],
      ['SOXX', 'iShares Semiconductor ETF'],
      ['IGV', 'iShares Expanded Tech-Software Sector ETF'],
    ],
  },
  {
    theme: 'bonds',
    description: 'Aggregate, municipal, corporate, inflation-linked and government bond funds',
    filter: DEFAULT_ETF_FILTER,
    anchors: [
      ['BND', 'Vanguard Total Bond Market ETF'],
      ['AGG', 'iShares Core U.S. Aggregate Bond ETF'],
      ['VTEB', 'Vanguard Tax-Exempt Bond ETF'],
      ['LQD', 'iShares iBoxx $ Investment Grade Corporate Bond ETF'],
      ['BNDX', 'Vanguard Total International Bond ETF'],
      ['TIP', 'iShares TIPS Bond ETF'],
      ['SHY', 'iShares 1-3 Year Treasury Bond ETF'],
      ['IEF', 'iShares 7-10 Year Treasury Bond ETF'],
    ],
  },
];

/** A universe row as the seed writes it. */
export interface UniverseDefinition {
  key: string;
  category: UniverseCategory;
  description: string;
  liquidityFilter: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

/** The key of an ETF theme's universe. */
export const etfUniverseKey = (theme: string) => `etf_${theme}`;

/** Every universe the project ships; sector themes are added by the sync as sectors appear. */
export function defaultUniverses(): UniverseDefinition[] {
  return [
    ...SIZE_UNIVERSES,
    IPO_UNIVERSE,
    ...DEFAULT_ETF_THEMES.map((theme) => ({
      key: etfUniverseKey(theme.theme),
      category: 'etf_theme' as const,
      description: theme.description,
      liquidityFilter: theme.filter,
      metadata: { theme: theme.theme, anchors: theme.anchors.map(([symbol]) => symbol) },
    })),
  ];
}

/** The distinct anchors of the ETF themes, with their names. */
export function defaultEtfFunds(): Array<{ symbol: string; name: string }> {
  const funds = new Map<string, string>();
  for (const theme of DEFAULT_ETF_THEMES) for (const [symbol, name] of theme.anchors) funds.set(symbol, name);
  return [...funds].map(([symbol, name]) => ({ symbol, name }));
}

/**
 * The slug of a sector name as used in `sector_<slug>`: lower case, runs of anything but
 * letters and digits become one underscore. Mirrors sectorSlugSql.
 */
export function sectorSlug(sector: string): string {
  return sector
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 56);
}

/** The same slug computed in SQL over `column`. */
export function sectorSlugSql(column: string): string {
  return `left(trim(both '_' from regexp_replace(lower(${column}), '[^a-z0-9]+', '_', 'g')), 56)`;
}

/** The instants and dates one sync reads its data at. */
export interface SyncWindow {
  date: string;
  /** Daily bars with ts before this instant (next local midnight) are on or before the date. */
  dayEnd: Date;
  /** First daily bar counted in the average volume: the session AVG_VOLUME_SESSIONS − 1 back. */
  volumeFrom: Date;
}

/** Where a sync for `date` (an NYSE session) reads closes and volumes. */
export function syncWindow(date: string): SyncWindow {
  const session = NYSE.session(date);
  if (!session) throw new RangeError(`${date} is not an NYSE session`);
  const first = NYSE.sessionAt(Math.max(0, session.index - (AVG_VOLUME_SESSIONS - 1)))!;
  return {
    date,
    dayEnd: new Date(localMidnight(NYSE.nextSession(date).date, EXCHANGE_TIME_ZONE)),
    volumeFrom: new Date(localMidnight(first.date, EXCHANGE_TIME_ZONE)),
  };
}
