import { CsvFormatError } from '../../src/domain/bars-csv.js';
import { parseSymbolsCsv, parseSymbolsJson, type ParsedSymbols, type SymbolLayout } from '../../src/domain/symbol-rows.js';

export interface ParseSymbolsInput {
  /** The file's bytes (transferred in). */
  bytes: Uint8Array;
  format: 'csv' | 'json';
  layout: SymbolLayout | 'auto';
}

export type ParseSymbolsOutput = ({ ok: true } & ParsedSymbols) | { ok: false; error: string };

/** Decodes and validates a symbols file (CSV or JSON) in one of the known layouts. */
export function parseSymbols({ bytes, format, layout }: ParseSymbolsInput): ParseSymbolsOutput {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { ok: false, error: 'the file is not valid UTF-8 text' };
  }
  try {
    if (format === 'csv') return { ok: true, ...parseSymbolsCsv(text, layout) };
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return { ok: false, error: `the file is not valid JSON: ${(error as Error).message}` };
    }
    return { ok: true, ...parseSymbolsJson(value, layout) };
  } catch (error) {
    if (error instanceof CsvFormatError) return { ok: false, error: error.message };
    throw error;
  }
}
