import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/shared/config.js';

/**
 * The shared market data directory (`../shared/data`, or TICKFORGE_DATA_DIR). Tests that read
 * it fail loudly when it is missing: they are part of what this project promises.
 */
export function dataFile(relative: string): string {
  const dir = loadConfig().dataDir;
  if (!dir) throw new Error('the sample market data is missing: set TICKFORGE_DATA_DIR or place it at ../shared/data');
  const file = path.join(dir, relative);
  if (!existsSync(file)) throw new Error(`sample data file missing: ${file}`);
  return file;
}

export const SPY_1MIN = 'equity_1min/spy_1min_trade_2013-10-04_2013-10-11.csv';
export const GOOG_1MIN = 'equity_1min/goog_1min_trade_2015-12-23_2015-12-28.csv';
export const SHY_1MIN = 'equity_1min/shy_1min_trade_2008-03-07_2008-03-10.csv';
export const SPY_DAILY = 'equity_daily/spy_daily_trade.csv';
export const SP500_DAILY = 'equity_daily/sp500_5yr_daily.csv.gz';
export const SP500_CONSTITUENTS = 'universe/sp500_constituents_2018-02-08.csv';
export const US_ETFS = 'universe/us_etfs_2021.csv';
export const ES_FUTURES = 'futures/es_daily_by_contract.csv';
