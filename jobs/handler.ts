import type { ContractParsedPayload, ContractResult, JobContract } from '../src/queues/contract.js';
import type { JobContext } from './context.js';

/**
 * The code that runs a job kind. `handle` throws to fail (BullMQ retries per the contract's
 * attempts; an error that says it is not retryable fails the job at once) and returns the
 * contract's result type to succeed.
 */
export interface JobHandler<C extends JobContract = JobContract> {
  contract: C;
  handle(ctx: JobContext, payload: ContractParsedPayload<C>): Promise<ContractResult<C>>;
}

/** Pairs a contract with the function that runs it; the compiler holds the function to the contract's types. */
export function defineHandler<C extends JobContract>(
  contract: C,
  handle: (ctx: JobContext, payload: ContractParsedPayload<C>) => Promise<ContractResult<C>>,
): JobHandler<C> {
  return { contract, handle };
}
