import type { RedisClient } from '../shared/redis.js';

/** What Redis says about its memory and clients. */
export interface RedisFigures {
  usedMemoryBytes: number;
  /** `maxmemory`; 0 when unlimited. */
  maxMemoryBytes: number;
  connectedClients: number;
}

/** Reads `INFO memory` and `INFO clients`. */
export async function redisFigures(redis: RedisClient): Promise<RedisFigures> {
  const [memory, clients] = await Promise.all([redis.info('memory'), redis.info('clients')]);
  const field = (text: string, name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return {
    usedMemoryBytes: field(memory, 'used_memory'),
    maxMemoryBytes: field(memory, 'maxmemory'),
    connectedClients: field(clients, 'connected_clients'),
  };
}
