import type { RedisClient } from '../shared/redis.js';
import type { QueueName } from './names.js';
import type { Producer } from './producer.js';

/** A request to stop one job, wherever it runs. */
export interface CancelRequest {
  queue: QueueName;
  id: string;
  reason: string;
}

/** What cancelling did: asked its worker to stop it, removed it before it ran, or nothing (it had ended). */
export type CancelOutcome =
  | { outcome: 'cancelling'; state: 'active' }
  | { outcome: 'removed'; state: string }
  | { outcome: 'finished'; state: 'completed' | 'failed' }
  | { outcome: 'not-found' };

/** The pub/sub channel every worker process of a namespace listens on for cancel requests. */
export function cancelChannel(prefix: string): string {
  return `${prefix}:control:cancel`;
}

/**
 * Cancels a job. A running job's worker process is asked over pub/sub to abort it
 * (BullMQ's worker.cancelJob: the job's signal aborts its kernel task and the job fails for
 * good with "cancelled: <reason>"); a job that has not started is removed; a finished one is
 * left as it is.
 */
export async function cancelJob(producer: Producer, publisher: RedisClient, request: CancelRequest): Promise<CancelOutcome> {
  const job = await producer.queue(request.queue).getJob(request.id);
  if (!job) return { outcome: 'not-found' };
  const state = await job.getState();
  if (state === 'completed' || state === 'failed') return { outcome: 'finished', state };
  if (state === 'active') {
    await publisher.publish(cancelChannel(producer.prefix), JSON.stringify(request));
    return { outcome: 'cancelling', state };
  }
  try {
    await job.remove();
  } catch (error) {
    // It started between the state read and the removal (its lock refuses removal): ask its worker.
    if ((await job.getState()) !== 'active') throw error;
    await publisher.publish(cancelChannel(producer.prefix), JSON.stringify(request));
    return { outcome: 'cancelling', state: 'active' };
  }
  return { outcome: 'removed', state };
}

/**
 * Listens for cancel requests on a subscriber connection of its own and hands each to
 * `cancel` (a worker process passes it to the BullMQ worker of the request's queue).
 */
export class CancelListener {
  constructor(
    private readonly subscriber: RedisClient,
    private readonly prefix: string,
    private readonly cancel: (request: CancelRequest) => void,
  ) {}

  async start(): Promise<void> {
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel !== cancelChannel(this.prefix)) return;
      let request: CancelRequest;
      try {
        request = JSON.parse(message) as CancelRequest;
      } catch {
        return;
      }
      if (typeof request.id === 'string' && typeof request.queue === 'string') this.cancel(request);
    });
    await this.subscriber.subscribe(cancelChannel(this.prefix));
  }
}
