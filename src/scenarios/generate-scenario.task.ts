import { runScenarioBatch, type ScenarioSpec, type SymbolResult } from './batch.js';
import type { SessionGrid } from './generator.js';
import { transferOut } from '../kernels/transfer.js';

/** A batch of symbols of one run, with the run's sessions. */
export interface GenerateScenarioInput {
  spec: ScenarioSpec;
  symbols: string[];
  grid: SessionGrid;
}

/** The batch's bars as COPY text and, per symbol, its series and report. */
export interface GenerateScenarioOutput {
  /** UTF-8 COPY text of every stored bar of the batch (transferred out). */
  copy: Uint8Array;
  symbols: SymbolResult[];
}

/**
 * Generates, aggregates, validates and COPY-encodes a batch of scenario symbols (see
 * src/scenarios/batch.ts); the event loop only streams the bytes to PostgreSQL.
 */
export function generateScenario({ spec, symbols, grid }: GenerateScenarioInput): GenerateScenarioOutput {
  const output = runScenarioBatch(spec, symbols, grid);
  const copy = new TextEncoder().encode(output.copy);
  return transferOut({ copy, symbols: output.symbols }, [copy.buffer as ArrayBuffer]);
}
