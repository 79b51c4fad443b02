import type { JobsOptions } from 'bullmq';
import type { z } from 'zod';
import type { QueueName } from './names.js';

/** The BullMQ options a job kind is added with unless the caller overrides them. */
export type JobDefaults = Pick<JobsOptions, 'attempts' | 'backoff' | 'removeOnComplete' | 'removeOnFail' | 'priority'>;

/** Marks where a contract keeps its result type; it has no value at run time. */
declare const resultType: unique symbol;

/**
 * What everyone who adds, runs or reads a job kind agrees on: its name, queue, payload schema,
 * default options, deterministic job id rule and result type. Contracts hold no behaviour, so
 * the API, CLI and scheduler import them without loading a handler, a repository or a kernel.
 */
export interface JobContract<Name extends string = string, Schema extends z.ZodType = z.ZodType, Result = unknown> {
  name: Name;
  queue: QueueName;
  description: string;
  schema: Schema;
  defaults: JobDefaults;
  /**
   * A deterministic job id for payloads whose repetition would be harmful (the same trading
   * date, say); BullMQ ignores an add whose id is already present.
   */
  jobId?(payload: z.output<Schema>): string | undefined;
  /**
   * Added only by another job (a flow's child): the API and the CLI refuse it, since a caller
   * adding it directly would bypass what its parent checks.
   */
  internal?: boolean;
  /** The type a completed job returns (the handler must return it); never set. */
  readonly [resultType]?: Result;
}

/**
 * Declares a contract whose jobs return `Result`: `defineContract<ImportBarsResult>()({...})`.
 * The name and schema types are inferred from the object.
 */
export function defineContract<Result>() {
  return <const Name extends string, Schema extends z.ZodType>(
    contract: Omit<JobContract<Name, Schema, Result>, typeof resultType>,
  ): JobContract<Name, Schema, Result> => contract;
}

/** The payload a caller passes (before the schema's defaults and transforms). */
export type ContractPayload<C> = C extends JobContract<string, infer Schema> ? z.input<Schema> : never;
/** The payload a handler receives (after parsing). */
export type ContractParsedPayload<C> = C extends JobContract<string, infer Schema> ? z.output<Schema> : never;
/** What a completed job of the contract returns. */
export type ContractResult<C> = C extends JobContract<string, z.ZodType, infer Result> ? Result : never;

const DAY = 24 * 3600;

/** Retention and retry settings most jobs share: 3 attempts, exponential backoff from 2 s. */
export const STANDARD_DEFAULTS: JobDefaults = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 2_000, jitter: 0.2 },
  removeOnComplete: { age: 7 * DAY, count: 5_000 },
  removeOnFail: { age: 30 * DAY, count: 20_000 },
};
