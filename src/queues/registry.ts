import type { z } from 'zod';
import { aggregateBarsContract } from '../bars/aggregate-bars.contract.js';
import { importBarsContract } from '../bars/import-bars.contract.js';
import { warmCacheContract } from '../bars/warm-cache.contract.js';
import { exportBarsContract } from '../bars/export-bars.contract.js';
import { buildContinuousContract } from '../futures/build-continuous.contract.js';
import { importFuturesContract } from '../futures/import-futures.contract.js';
import { detectPatternsContract } from '../patterns/detect-patterns.contract.js';
import { generateScenarioContract } from '../scenarios/generate-scenario.contract.js';
import { backupContract } from '../shared/backup.contract.js';
import { eodPipelineContract } from '../shared/eod-pipeline.contract.js';
import { eodTriggerContract } from '../shared/eod-trigger.contract.js';
import { InternalJobError, UnknownJobError } from '../shared/errors.js';
import { noopContract } from '../shared/noop.contract.js';
import { analyzePatternsContract } from '../patterns/analyze-patterns.contract.js';
import { eodSyncTaskContract } from '../universes/eod-sync-task.contract.js';
import { eodSyncContract } from '../universes/eod-sync.contract.js';
import { importSymbolsContract } from '../universes/import-symbols.contract.js';
import type { ContractResult, JobContract } from './contract.js';
import type { QueueName } from './names.js';

/**
 * Every job kind tickforge runs. The API, CLI, scheduler and worker all derive from this list:
 * a job kind is one contract here and one handler in jobs/index.ts.
 */
export const CONTRACTS = [
  importBarsContract,
  eodPipelineContract,
  noopContract,
  importFuturesContract,
  buildContinuousContract,
  importSymbolsContract,
  eodSyncContract,
  eodSyncTaskContract,
  eodTriggerContract,
  generateScenarioContract,
  aggregateBarsContract,
  warmCacheContract,
  exportBarsContract,
  detectPatternsContract,
  analyzePatternsContract,
  backupContract,
] as const;

export type AnyContract = (typeof CONTRACTS)[number];
export type JobName = AnyContract['name'];
export type ContractOf<N extends JobName> = Extract<AnyContract, { name: N }>;
type PayloadMap = { [C in AnyContract as C['name']]: z.input<C['schema']> };
type ParsedPayloadMap = { [C in AnyContract as C['name']]: z.output<C['schema']> };
type ResultMap = { [C in AnyContract as C['name']]: ContractResult<C> };
/** What a caller passes to enqueue a job of this name. */
export type PayloadOf<N extends JobName> = PayloadMap[N];
/** What a handler of this name receives, after the schema's defaults and transforms. */
export type ParsedPayloadOf<N extends JobName> = ParsedPayloadMap[N];
/** What a job of this name returns when it completes. */
export type ResultOf<N extends JobName> = ResultMap[N];

const byName: ReadonlyMap<string, JobContract> = new Map(CONTRACTS.map((contract) => [contract.name, contract as JobContract]));

/** The names of every job kind, in registry order. */
export const JOB_NAMES: readonly JobName[] = CONTRACTS.map((contract) => contract.name);

export function isJobName(name: string): name is JobName {
  return byName.has(name);
}

/** The contract of a job kind named at run time (HTTP, CLI, a stored job); UnknownJobError otherwise. */
export function contractNamed(name: string): JobContract {
  const contract = byName.get(name);
  if (!contract) throw new UnknownJobError(name, JOB_NAMES);
  return contract;
}

/**
 * The contract of a job kind a caller outside the program may add (HTTP, CLI): UnknownJobError
 * for an unknown name, InternalJobError for a kind only another job adds.
 */
export function publicContractNamed(name: string): JobContract {
  const contract = contractNamed(name);
  if (contract.internal) throw new InternalJobError(name);
  return contract;
}

/** The names of the job kinds callers may add. */
export const PUBLIC_JOB_NAMES: readonly JobName[] = JOB_NAMES.filter((name) => !byName.get(name)!.internal);

/** The contract of a job kind named in code. */
export function contractOf<N extends JobName>(name: N): ContractOf<N> {
  return byName.get(name) as ContractOf<N>;
}

/** Queues that have at least one job kind, in registry order. */
export function activeQueues(): QueueName[] {
  return [...new Set(CONTRACTS.map((contract) => contract.queue))];
}
