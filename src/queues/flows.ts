import type { FlowJob, JobsOptions } from 'bullmq';
import type { ChildJob } from '../../jobs/define.js';
import { registry } from '../../jobs/index.js';
import { parseOrThrow } from '../shared/validation.js';
import { UnknownJobError, safeJobId } from './producer.js';

/**
 * Turns a child job (and its own children) into a BullMQ flow node, validating each payload
 * with its job's schema and applying the job's default options, as enqueue does.
 */
export function toFlowJob(child: ChildJob): FlowJob {
  const definition = registry.get(child.name);
  if (!definition) throw new UnknownJobError(child.name);
  const data = parseOrThrow(definition.schema, child.payload, `payload of ${child.name} ${child.jobId}`);
  const onFailure: JobsOptions =
    child.onFailure === 'ignore' ? { ignoreDependencyOnFailure: true } : { continueParentOnFailure: true };
  const node = {
    name: child.name,
    queueName: definition.queue,
    data,
    opts: { ...definition.defaults, ...onFailure, jobId: safeJobId(child.jobId) },
  };
  return child.children?.length ? { ...node, children: child.children.map(toFlowJob) } : node;
}
