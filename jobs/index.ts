import { CONTRACTS } from '../src/queues/registry.js';
import type { JobContract } from '../src/queues/contract.js';
import { aggregateBarsHandler } from './bars/aggregate-bars.job.js';
import { importBarsHandler } from './bars/import-bars.job.js';
import { warmCacheHandler } from './bars/warm-cache.job.js';
import { exportBarsHandler } from './bars/export-bars.job.js';
import { buildContinuousHandler } from './futures/build-continuous.job.js';
import { importFuturesHandler } from './futures/import-futures.job.js';
import type { JobHandler } from './handler.js';
import { detectPatternsHandler } from './patterns/detect-patterns.job.js';
import { generateScenarioHandler } from './scenarios/generate-scenario.job.js';
import { backupHandler } from './shared/backup.job.js';
import { eodPipelineHandler } from './shared/eod-pipeline.job.js';
import { eodTriggerHandler } from './shared/eod-trigger.job.js';
import { noopHandler } from './shared/noop.job.js';
import { analyzePatternsHandler } from './patterns/analyze-patterns.job.js';
import { eodSyncTaskHandler } from './universes/eod-sync-task.job.js';
import { eodSyncHandler } from './universes/eod-sync.job.js';
import { importSymbolsHandler } from './universes/import-symbols.job.js';

/** Every handler; the worker pairs them with the contracts of src/queues/registry.ts. */
export const HANDLERS: readonly JobHandler[] = [
  importBarsHandler,
  aggregateBarsHandler,
  warmCacheHandler,
  exportBarsHandler,
  importFuturesHandler,
  buildContinuousHandler,
  importSymbolsHandler,
  eodSyncHandler,
  eodSyncTaskHandler,
  generateScenarioHandler,
  eodPipelineHandler,
  eodTriggerHandler,
  noopHandler,
  detectPatternsHandler,
  analyzePatternsHandler,
  backupHandler,
] as unknown as readonly JobHandler[];

/** Raised when contracts and handlers do not pair up: a contract without a handler, or with two. */
export class RegistryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegistryError';
  }
}

/**
 * Pairs every contract with its one handler and indexes them by job name. Refuses a contract
 * without a handler, a contract with two, and a handler whose contract is not among them.
 */
export function pairHandlers(
  contracts: readonly JobContract[] = CONTRACTS as readonly JobContract[],
  handlers: readonly JobHandler[] = HANDLERS,
): Map<string, JobHandler> {
  const names = new Set(contracts.map((contract) => contract.name));
  const byName = new Map<string, JobHandler>();
  const problems: string[] = [];
  for (const handler of handlers) {
    const name = handler.contract.name;
    if (!names.has(name)) problems.push(`handler for ${name} has no contract in the registry`);
    else if (byName.has(name)) problems.push(`job ${name} has two handlers`);
    else byName.set(name, handler);
  }
  for (const contract of contracts) {
    if (!byName.has(contract.name)) problems.push(`job ${contract.name} has no handler`);
  }
  if (problems.length > 0) throw new RegistryError(`job registry is invalid: ${problems.join('; ')}`);
  return byName;
}
