import { z } from 'zod';
import { ConfigError } from '../shared/config.js';
import { DEFAULT_ETF_THEMES, etfFilterSchema, type EtfFilter } from './universes.js';

/** What the theme rule reads of a fund: the reference file's category and holdings. */
export interface EtfProfile {
  /** Morningstar-style category (`Large Growth`, `Muni National Interm` …); blank when unknown. */
  category?: string;
  /** Style of the holdings: Growth, Value or Blend. */
  investmentType?: string;
  /** Fraction of the fund held in bonds (0–1). */
  assetBonds?: number;
}

const US_BLEND = new Set(['Large Blend', 'Mid-Cap Blend', 'Small Blend']);

/**
 * The categories of each theme. A fund belongs to the first theme whose rule matches (the
 * order of THEME_RULES); leveraged and inverse funds (`Trading--…`), allocation, long-short and
 * currency funds belong to none.
 */
export const THEME_CATEGORIES: Readonly<Record<string, readonly string[]>> = {
  technology: ['Technology'],
  sectors: [
    'Communications',
    'Consumer Cyclical',
    'Consumer Defensive',
    'Equity Energy',
    'Financial',
    'Health',
    'Industrials',
    'Infrastructure',
    'Miscellaneous Sector',
    'Natural Resources',
    'Real Estate',
    'Utilities',
  ],
  growth: ['Large Growth', 'Mid-Cap Growth', 'Small Growth'],
  value: ['Large Value', 'Mid-Cap Value', 'Small Value'],
  international: [
    'China Region',
    'Diversified Emerging Mkts',
    'Diversified Pacific/Asia',
    'Europe Stock',
    'Foreign Large Blend',
    'Foreign Large Growth',
    'Foreign Large Value',
    'Foreign Small/Mid Blend',
    'Foreign Small/Mid Growth',
    'Foreign Small/Mid Value',
    'India Equity',
    'Japan Stock',
    'Latin America Stock',
    'Miscellaneous Region',
    'Pacific/Asia ex-Japan Stk',
  ],
  commodities: ['Commodities Broad Basket', 'Equity Precious Metals'],
  bonds: [
    'Bank Loan',
    'Corporate Bond',
    'Emerging Markets Bond',
    'Emerging-Markets Local-Currency Bond',
    'High Yield Bond',
    'Inflation-Protected Bond',
    'Intermediate Government',
    'Intermediate-Term Bond',
    'Long Government',
    'Long-Term Bond',
    'Multisector Bond',
    'Nontraditional Bond',
    'Short Government',
    'Short-Term Bond',
    'Ultrashort Bond',
    'World Bond',
  ],
};

/** A fund without a category whose holdings are at least this much bonds is a bond fund. */
export const BOND_HOLDINGS_FOCUS = 0.8;

/**
 * The theme a fund belongs to by rule, or undefined:
 * 1. its category is one of a theme's THEME_CATEGORIES (municipal categories, `Muni …`, are bonds);
 * 2. a US blend category (Large/Mid-Cap/Small Blend) goes to growth or value when its holdings'
 *    style is Growth or Value;
 * 3. a fund without a category goes to bonds when at least BOND_HOLDINGS_FOCUS of it is bonds.
 */
export function etfThemeOf(profile: EtfProfile): string | undefined {
  const category = profile.category?.trim() ?? '';
  if (category !== '') {
    for (const [theme, categories] of Object.entries(THEME_CATEGORIES)) if (categories.includes(category)) return theme;
    if (category.startsWith('Muni ') || category === 'High Yield Muni') return 'bonds';
    if (US_BLEND.has(category) && profile.investmentType === 'Growth') return 'growth';
    if (US_BLEND.has(category) && profile.investmentType === 'Value') return 'value';
    return undefined;
  }
  if (profile.assetBonds !== undefined && profile.assetBonds >= BOND_HOLDINGS_FOCUS) return 'bonds';
  return undefined;
}

/** Per-theme overrides of the default filters: `{"bonds": {"min_avg_volume": 1000000}}`. */
export const etfFilterOverridesSchema = z.record(z.string(), etfFilterSchema.partial()).superRefine((overrides, context) => {
  const themes = DEFAULT_ETF_THEMES.map((theme) => theme.theme);
  for (const theme of Object.keys(overrides)) {
    if (!themes.includes(theme))
      context.addIssue({ code: 'custom', path: [theme], message: `is not a theme (one of ${themes.join(', ')})` });
  }
});
export type EtfFilterOverrides = z.infer<typeof etfFilterOverridesSchema>;

/** The overrides of TICKFORGE_ETF_FILTERS checked against the themes and filter fields; ConfigError names what is wrong. */
export function etfFilterOverrides(setting: unknown): EtfFilterOverrides {
  const parsed = etfFilterOverridesSchema.safeParse(setting);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'} ${issue.message}`);
  throw new ConfigError(`invalid configuration:\n  TICKFORGE_ETF_FILTERS: ${problems.join('; ')}`);
}

/** Each theme's filter: the report's default with the theme's override laid over it. */
export function effectiveEtfFilters(overrides: EtfFilterOverrides = {}): Record<string, EtfFilter> {
  return Object.fromEntries(DEFAULT_ETF_THEMES.map((theme) => [theme.theme, { ...theme.filter, ...overrides[theme.theme] }]));
}

/** The filters in the order the report applies them, which is the order removals are counted in. */
export const ETF_FILTER_STEPS = ['aum', 'avg_volume', 'expense_ratio'] as const;
export type EtfFilterStep = (typeof ETF_FILTER_STEPS)[number];

/** A fund as the theme selection reads it; a figure left out is unknown. */
export interface EtfFund {
  symbol: string;
  theme?: string;
  aum?: number;
  avgVolume?: number;
  expenseRatio?: number;
}

/** The filter steps a fund fails (a step whose figure is unknown is not failed). */
export function failedSteps(fund: EtfFund, filter: EtfFilter): EtfFilterStep[] {
  const failed: EtfFilterStep[] = [];
  if (fund.aum !== undefined && !(fund.aum > filter.min_aum)) failed.push('aum');
  if (fund.avgVolume !== undefined && !(fund.avgVolume > filter.min_avg_volume)) failed.push('avg_volume');
  if (fund.expenseRatio !== undefined && !(fund.expenseRatio < filter.max_expense_ratio)) failed.push('expense_ratio');
  return failed;
}

/** One theme selected from a set of funds. */
export interface ThemeSelection {
  theme: string;
  filter: EtfFilter;
  /** Funds the rule (or the anchor list) puts in the theme. */
  candidates: number;
  /** Funds each filter removed, applied in ETF_FILTER_STEPS order (a fund is counted once, at its first failed step). */
  removed: Record<EtfFilterStep, number>;
  /** Members, sorted. */
  members: string[];
  /** Anchors that fail a filter but stay, with the steps they fail. */
  anchorsKept: Record<string, EtfFilterStep[]>;
}

/**
 * Selects every theme's members from `funds` (listed funds only): the candidates by rule plus
 * the anchors present among the funds, less those failing the theme's filter, except anchors.
 * The same selection the sync's etf_universe_maintenance makes in SQL.
 */
export function selectEtfThemes(funds: readonly EtfFund[], overrides: EtfFilterOverrides = {}): ThemeSelection[] {
  const filters = effectiveEtfFilters(overrides);
  return DEFAULT_ETF_THEMES.map((theme) => {
    const anchors = new Set(theme.anchors.map(([symbol]) => symbol));
    const filter = filters[theme.theme];
    const candidates = funds.filter((fund) => fund.theme === theme.theme || anchors.has(fund.symbol));
    const removed: Record<EtfFilterStep, number> = { aum: 0, avg_volume: 0, expense_ratio: 0 };
    const members: string[] = [];
    const anchorsKept: Record<string, EtfFilterStep[]> = {};
    for (const fund of candidates) {
      const failed = failedSteps(fund, filter);
      if (failed.length === 0) members.push(fund.symbol);
      else if (anchors.has(fund.symbol)) {
        members.push(fund.symbol);
        anchorsKept[fund.symbol] = failed;
      } else removed[failed[0]] += 1;
    }
    return { theme: theme.theme, filter, candidates: candidates.length, removed, members: members.sort(), anchorsKept };
  });
}
