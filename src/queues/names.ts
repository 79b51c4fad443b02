/** Every BullMQ queue tickforge uses. A queue gets a Worker only if some job runs on it. */
export const QUEUES = ['ingest', 'aggregate', 'scenario', 'sync', 'futures', 'cache', 'system', 'analytics'] as const;
export type QueueName = (typeof QUEUES)[number];

export function isQueueName(name: string): name is QueueName {
  return (QUEUES as readonly string[]).includes(name);
}
