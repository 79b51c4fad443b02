import { etfThemeOf, type EtfFund } from '../../src/universes/etf-themes.js';
import { defaultEtfFunds } from '../../src/universes/universes.js';
import { readEtfs } from './sp500.js';

const known = (value: string) => (value === '' ? undefined : Number(value));

/** M/D/YYYY as YYYY-MM-DD. */
function isoDate(usDate: string): string {
  const [month, day, year] = usDate.split('/');
  return `${year}-${month.padStart(2, '0')}-${day.padStart(2, '0')}`;
}

/**
 * The funds a sync of `date` sees after importing the US ETF file, read straight from the file:
 * those listed by the date, with their theme by rule, plus the seeded anchors the file lacks
 * (no figures at all).
 */
export function etfFundsOn(date: string): EtfFund[] {
  const rows = readEtfs();
  const inFile = new Set(rows.map((row) => row.fund_symbol));
  const funds: EtfFund[] = rows
    .filter((row) => row.inception_date === '' || isoDate(row.inception_date) <= date)
    .map((row) => ({
      symbol: row.fund_symbol,
      theme: etfThemeOf({
        category: row.fund_category,
        investmentType: row.investment_type,
        assetBonds: known(row.asset_bonds),
      }),
      aum: known(row.total_net_assets),
      avgVolume: known(row.avg_vol_3month),
      expenseRatio: known(row.fund_annual_report_net_expense_ratio),
    }));
  for (const anchor of defaultEtfFunds()) if (!inFile.has(anchor.symbol)) funds.push({ symbol: anchor.symbol });
  return funds;
}
