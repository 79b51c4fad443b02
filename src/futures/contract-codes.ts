import type { TradingCalendar } from '../shared/calendar.js';
import { formatIsoDate } from '../shared/zone.js';

/** The exchange month codes, January (F) to December (Z). */
export const MONTH_CODES = ['F', 'G', 'H', 'J', 'K', 'M', 'N', 'Q', 'U', 'V', 'X', 'Z'] as const;
export type MonthCode = (typeof MONTH_CODES)[number];

/** A futures root: one to four upper-case letters or digits, starting with a letter (ES, NQ, M2K). */
export const ROOT_PATTERN = /^[A-Z][A-Z0-9]{0,3}$/;

/** 1-based calendar month of a month code. */
export function monthOfCode(code: MonthCode): number {
  return MONTH_CODES.indexOf(code) + 1;
}

export function codeOfMonth(month: number): MonthCode {
  const code = MONTH_CODES[month - 1];
  if (code === undefined) throw new RangeError(`month ${month} is not 1-12`);
  return code;
}

/** A contract identified by its code: root, month code and the delivery year and month. */
export interface ContractCode {
  contract: string;
  root: string;
  monthCode: MonthCode;
  year: number;
  month: number;
}

const CODE_PATTERN = /^([A-Z][A-Z0-9]{0,3}?)([FGHJKMNQUVXZ])(\d{1,4})$/;

/**
 * Parses a contract code such as ESZ13, ESZ2013 or ESZ3. The year digits are completed from
 * `contractMonth` (YYYYMM or YYYY-MM) when given, which must then agree with the code;
 * without it a two-digit year is read as 20YY and a one-digit year is refused as ambiguous.
 * Throws a RangeError saying what is wrong.
 */
export function parseContractCode(contract: string, contractMonth?: string): ContractCode {
  const match = CODE_PATTERN.exec(contract);
  if (!match) {
    throw new RangeError(
      `contract ${JSON.stringify(contract.slice(0, 40))} is not a contract code (root, month code F G H J K M N Q U V X Z, year: ESZ13)`,
    );
  }
  const [, root, monthCode, digits] = match;
  const month = monthOfCode(monthCode as MonthCode);
  let year: number;
  if (contractMonth !== undefined && contractMonth !== '') {
    const given = /^(\d{4})-?(\d{2})$/.exec(contractMonth);
    if (!given || Number(given[2]) < 1 || Number(given[2]) > 12) {
      throw new RangeError(`contract_month ${JSON.stringify(contractMonth.slice(0, 20))} is not YYYYMM`);
    }
    year = Number(given[1]);
    if (Number(given[2]) !== month || !given[1].endsWith(digits)) {
      throw new RangeError(
        `contract_month ${contractMonth} does not match contract ${contract} (month ${monthCode} = ${month}, year …${digits})`,
      );
    }
  } else if (digits.length === 4) {
    year = Number(digits);
  } else if (digits.length === 2) {
    year = 2000 + Number(digits);
  } else {
    throw new RangeError(`contract ${contract} has a ${digits.length}-digit year; give contract_month (YYYYMM) to say which`);
  }
  return { contract, root, monthCode: monthCode as MonthCode, year, month };
}

/** How a root's last trading day follows from its contract month. */
export interface ExpiryRule {
  /** Said in results so users know the date was derived, and how. */
  description: string;
  lastTradeDate(year: number, month: number, calendar: TradingCalendar): string;
}

/** The session on `date`, or the last one before it when `date` is not a session. */
export function sessionOnOrBefore(date: string, calendar: TradingCalendar): string {
  return calendar.isSession(date) ? date : calendar.previousSession(date).date;
}

/** The third Friday of a month, as YYYY-MM-DD. */
export function thirdFriday(year: number, month: number): string {
  const firstWeekday = new Date(Date.UTC(year, month - 1, 1)).getUTCDay();
  const firstFriday = 1 + ((5 - firstWeekday + 7) % 7);
  return formatIsoDate(year, month, firstFriday + 14);
}

/** CME equity-index futures stop trading at 09:30 ET on the third Friday of the contract month. */
const THIRD_FRIDAY: ExpiryRule = {
  description: 'third Friday of the contract month (the session before when that Friday is a holiday)',
  lastTradeDate: (year, month, calendar) => sessionOnOrBefore(thirdFriday(year, month), calendar),
};

/** What tickforge knows about a root without being told: its listing cycle and expiry rule. */
export interface RootSpec {
  root: string;
  name: string;
  /** The months in which contracts are listed, for spotting contracts missing from a chain. */
  cycle: readonly MonthCode[];
  expiry: ExpiryRule;
}

const QUARTERLY: readonly MonthCode[] = ['H', 'M', 'U', 'Z'];

const spec = (root: string, name: string): RootSpec => ({ root, name, cycle: QUARTERLY, expiry: THIRD_FRIDAY });

/** Roots whose expiry can be derived. Other roots need a last_trade_date column on import. */
export const ROOT_SPECS: ReadonlyMap<string, RootSpec> = new Map(
  [
    spec('ES', 'E-mini S&P 500'),
    spec('MES', 'Micro E-mini S&P 500'),
    spec('NQ', 'E-mini Nasdaq-100'),
    spec('MNQ', 'Micro E-mini Nasdaq-100'),
    spec('YM', 'E-mini Dow'),
    spec('MYM', 'Micro E-mini Dow'),
    spec('RTY', 'E-mini Russell 2000'),
    spec('M2K', 'Micro E-mini Russell 2000'),
  ].map((s) => [s.root, s]),
);

/** Contracts of the root's listing cycle strictly between two contracts, by code. */
export function missingFromCycle(before: ContractCode, after: ContractCode, cycle: readonly MonthCode[]): string[] {
  const missing: string[] = [];
  let year = before.year;
  let month = before.month;
  for (;;) {
    month += 1;
    if (month > 12) {
      month = 1;
      year += 1;
    }
    if (year > after.year || (year === after.year && month >= after.month)) return missing;
    const code = codeOfMonth(month);
    if (cycle.includes(code)) missing.push(`${before.root}${code}${String(year % 100).padStart(2, '0')}`);
  }
}

/** How the continuous series chooses the day it moves to the next contract. */
export const ROLL_POLICIES = ['calendar', 'volume', 'open_interest'] as const;
export type RollPolicy = (typeof ROLL_POLICIES)[number];

/** How prices before a roll are made continuous with those after it. */
export const ADJUSTMENTS = ['none', 'difference', 'ratio'] as const;
export type Adjustment = (typeof ADJUSTMENTS)[number];

/** The roll offset a series uses when none is given: five sessions before the last trading day. */
export const DEFAULT_ROLL_OFFSET = 5;

const POLICY_TAG: Record<RollPolicy, string> = { calendar: 'calendar', volume: 'volume', open_interest: 'oi' };

/**
 * The symbol a continuous series is stored under: `ES.c.volume.ratio`; a roll offset other
 * than the default is appended to the policy (`ES.c.calendar3.none`) and open interest is
 * shortened to `oi`, so every symbol fits the 32-character limit.
 */
export function seriesSymbol(root: string, roll: RollPolicy, rollOffset: number, adjust: Adjustment): string {
  const offset = rollOffset === DEFAULT_ROLL_OFFSET ? '' : String(rollOffset);
  return `${root}.c.${POLICY_TAG[roll]}${offset}.${adjust}`;
}
