import type { FlowJob, JobsOptions } from 'bullmq';
import { parseOrThrow } from '../shared/validation.js';
import { safeJobId, type CorrelatedJobOptions } from './producer.js';
import { contractOf, type JobName, type PayloadOf } from './registry.js';

/** A job to run as a child of another; with `children` it is a flow of its own. */
export interface ChildJob<out N extends JobName = JobName> {
  name: N;
  payload: PayloadOf<N>;
  /** Deterministic id, so adding the same child again (a re-entry, a retry) adds nothing. */
  jobId: string;
  /**
   * When this child fails for good: `report` (default) runs the parent at once, which sees the
   * reason in its children's failures; `ignore` lets the parent wait for its other children.
   */
  onFailure?: 'report' | 'ignore';
  children?: AnyChildJob[];
}

/** A child job of any kind, its payload checked against its own name. */
export type AnyChildJob = { [N in JobName]: ChildJob<N> }[JobName];

/**
 * Turns a child job (and its own children) into a BullMQ flow node, validating each payload
 * with its job's schema and applying the job's default options, as enqueue does. Every node
 * carries `correlationId`, the root's, when one is given.
 */
export function toFlowJob<N extends JobName>(child: ChildJob<N>, correlationId?: string): FlowJob {
  const contract = contractOf(child.name);
  const data = parseOrThrow(contract.schema, child.payload, `payload of ${child.name} ${child.jobId}`);
  const onFailure: JobsOptions =
    child.onFailure === 'ignore' ? { ignoreDependencyOnFailure: true } : { continueParentOnFailure: true };
  const opts: CorrelatedJobOptions = {
    ...contract.defaults,
    ...onFailure,
    jobId: safeJobId(child.jobId),
    ...(correlationId !== undefined ? { correlationId } : {}),
  };
  const node = { name: child.name, queueName: contract.queue, data, opts };
  return child.children?.length
    ? { ...node, children: child.children.map((grandchild) => toFlowJob(grandchild, correlationId)) }
    : node;
}
