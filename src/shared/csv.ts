import { CsvFormatError } from '../bars/csv.js';

/** A file-level problem reported by a CSV task instead of thrown across the thread boundary. */
export interface CsvFailure {
  ok: false;
  error: string;
  line?: number;
}

/**
 * Decodes a CSV file's bytes as strict UTF-8 and hands the text to `parse`; undecodable bytes
 * and CsvFormatErrors come back as a CsvFailure, anything else is thrown.
 */
export function parseCsvBytes<T>(bytes: Uint8Array, parse: (text: string) => T): T | CsvFailure {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { ok: false, error: 'the file is not valid UTF-8 text' };
  }
  try {
    return parse(text);
  } catch (error) {
    if (error instanceof CsvFormatError) return { ok: false, error: error.message, line: error.line };
    throw error;
  }
}
