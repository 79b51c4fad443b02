import { parseSymbolsCsv, parseSymbolsJson, type ParsedSymbols, type SymbolLayout } from './symbol-rows.js';
import { parseCsvBytes, type CsvFailure } from '../shared/csv.js';

export interface ParseSymbolsInput {
  /** The file's bytes (transferred in). */
  bytes: Uint8Array;
  format: 'csv' | 'json';
  layout: SymbolLayout | 'auto';
}

export type ParseSymbolsOutput = ({ ok: true } & ParsedSymbols) | CsvFailure;

/** Decodes and validates a symbols file (CSV or JSON) in one of the known layouts. */
export function parseSymbols({ bytes, format, layout }: ParseSymbolsInput): ParseSymbolsOutput {
  return parseCsvBytes<ParseSymbolsOutput>(bytes, (text) => {
    if (format === 'csv') return { ok: true, ...parseSymbolsCsv(text, layout) };
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      // The engine's message quotes the text around the error: give only where it is.
      const position = /position (\d+)/.exec((error as Error).message)?.[1];
      return { ok: false, error: `the file is not valid JSON${position === undefined ? '' : ` (at character ${position})`}` };
    }
    return { ok: true, ...parseSymbolsJson(value, layout) };
  });
}
