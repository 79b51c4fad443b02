import { isJobName } from '../../queues/registry.js';
import type { QueueName } from '../../queues/names.js';
import { progressOf } from '../../queues/progress.js';
import type { JobEvent } from '../job-events.js';
import { JOB_MESSAGE_KINDS } from './protocol.js';

/** The message family of a job kind; a name no contract has (an old job) keeps its own name. */
export function messageKind(name: string): string {
  return isJobName(name) ? JOB_MESSAGE_KINDS[name] : name.replace(/-/g, '_');
}

/** Which job a message is about. */
export interface JobRef {
  queue: QueueName;
  jobId: string;
  name: string;
}

/** The WebSocket message of one job event: `<kind>_progress`, `<kind>_complete` or `<kind>_error`. */
export function jobMessage(job: JobRef, event: Exclude<JobEvent, { type: 'closing' }>): Record<string, unknown> {
  const kind = messageKind(job.name);
  const about = { queue: job.queue, jobId: job.jobId, name: job.name };
  if (event.type === 'progress') return { type: `${kind}_progress`, ...about, ...progressOf(event.data) };
  if (event.type === 'completed') return { type: `${kind}_complete`, ...about, result: event.returnvalue };
  return { type: `${kind}_error`, ...about, error: event.failedReason };
}

/** A job event as BullMQ stores it in the queue's event stream, or null for the other events there. */
export function jobEventOfEntry(fields: string[]): { jobId: string; event: Exclude<JobEvent, { type: 'closing' }> } | null {
  const values = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) values.set(fields[i], fields[i + 1]);
  const jobId = values.get('jobId');
  if (jobId === undefined) return null;
  const json = (text: string | undefined) => {
    try {
      return text === undefined ? null : (JSON.parse(text) as unknown);
    } catch {
      return text;
    }
  };
  switch (values.get('event')) {
    case 'progress':
      return { jobId, event: { type: 'progress', data: json(values.get('data')) } };
    case 'completed':
      return { jobId, event: { type: 'completed', returnvalue: json(values.get('returnvalue')) } };
    case 'failed':
      return { jobId, event: { type: 'failed', failedReason: values.get('failedReason') ?? '' } };
    default:
      return null;
  }
}

/** Orders two stream ids (`ms-seq`). */
export function compareStreamIds(a: string, b: string): number {
  const [aMs, aSeq] = a.split('-').map(BigInt);
  const [bMs, bSeq] = b.split('-').map(BigInt);
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  return aSeq === bSeq ? 0 : aSeq < bSeq ? -1 : 1;
}

/** Messages already serialised, by the event object every listener of one emit shares. */
const serialized = new WeakMap<object, string>();

/**
 * The JSON text of a message every subscriber of `source` (one emitted event) gets: built and
 * serialised once however many clients follow it; `withSubscription` adds each client's name.
 */
export function sharedText(source: object, build: () => Record<string, unknown>): string {
  let text = serialized.get(source);
  if (text === undefined) {
    text = JSON.stringify(build());
    serialized.set(source, text);
  }
  return text;
}

/** A shared message's text with the subscription it goes out under, as its first field. */
export function withSubscription(text: string, subscription: string): string {
  return `{"subscription":${JSON.stringify(subscription)},${text.slice(1)}`;
}
