/**
 * A deployment's namespace is its TICKFORGE_PREFIX: every Redis name it uses (BullMQ keys,
 * cache and rate-limit keys, pub/sub channels, the event stream, worker heartbeats) derives
 * from it, so deployments sharing one Redis server never see each other's work.
 */

/** The namespace whose channels and stream keep the TickStock names existing consumers read. */
export const DEFAULT_NAMESPACE = 'tickforge';

/** True for the default namespace, hash-tagged (`{tickforge}`, for Redis Cluster) or not. */
export function isDefaultNamespace(prefix: string): boolean {
  return prefix.replace(/[{}]/g, '') === DEFAULT_NAMESPACE;
}

/** The event stream of a namespace: `tickstock.events` in the default one, `<prefix>:tickstock.events` elsewhere. */
export function eventStreamName(prefix: string): string {
  return isDefaultNamespace(prefix) ? 'tickstock.events' : `${prefix}:tickstock.events`;
}
