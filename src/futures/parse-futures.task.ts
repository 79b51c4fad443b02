import { encodeCopyRows } from '../bars/columns.js';
import { NYSE } from '../shared/calendar.js';
import { parseFuturesCsv, type NonSessionPolicy, type ParseFuturesResult } from './csv.js';
import { parseCsvBytes, type CsvFailure } from '../shared/csv.js';
import { transferOut } from '../kernels/transfer.js';

export interface ParseFuturesInput {
  /** The file's bytes (transferred in). */
  bytes: Uint8Array;
  nonSessionRows: NonSessionPolicy;
}

/** A contract as the import reports and stores it (its bars travel as COPY text). */
export interface ParsedContractSummary {
  contract: string;
  root: string;
  monthCode: string;
  contractMonth: string;
  lastTradeDate: string;
  firstNoticeDate: string | null;
  expiryDerived: boolean;
  expiryRule: string | null;
  bars: number;
  openInterest: number;
  /** First and last bar ts (epoch ms), absent when the contract has no bars. */
  from?: number;
  to?: number;
}

export type ParseFuturesOutput =
  | (Omit<ParseFuturesResult, 'contracts'> & {
      ok: true;
      /** COPY text of the contract bars (BAR_COPY_COLUMNS) and of open interest (transferred out). */
      barsCopy: Uint8Array;
      openInterestCopy: Uint8Array;
      contracts: ParsedContractSummary[];
    })
  | CsvFailure;

/** Decodes and parses a futures CSV on the NYSE calendar and encodes its bars and open interest for COPY. */
export function parseFutures({ bytes, nonSessionRows }: ParseFuturesInput): ParseFuturesOutput {
  return parseCsvBytes(bytes, (text) => {
    const { contracts, ...report } = parseFuturesCsv(text, { calendar: NYSE, nonSessionRows });
    const encoder = new TextEncoder();
    const barsCopy = encoder.encode(
      contracts.map((c) => encodeCopyRows({ symbol: c.contract, timeframe: '1d', variant: '' }, 'provider', c.bars)).join(''),
    );
    const openInterestCopy = encoder.encode(
      contracts.flatMap((c) => c.openInterest.map((oi) => `${c.contract}\t${oi.date}\t${oi.openInterest}\n`)).join(''),
    );
    return transferOut(
      {
        ok: true as const,
        barsCopy,
        openInterestCopy,
        contracts: contracts.map((c) => ({
          contract: c.contract,
          root: c.root,
          monthCode: c.monthCode,
          contractMonth: c.contractMonth,
          lastTradeDate: c.lastTradeDate,
          firstNoticeDate: c.firstNoticeDate,
          expiryDerived: c.expiryDerived,
          expiryRule: c.expiryRule,
          bars: c.bars.ts.length,
          openInterest: c.openInterest.length,
          ...(c.bars.ts.length > 0 ? { from: c.bars.ts[0], to: c.bars.ts[c.bars.ts.length - 1] } : {}),
        })),
        ...report,
      },
      [barsCopy.buffer as ArrayBuffer, openInterestCopy.buffer as ArrayBuffer],
    );
  });
}
