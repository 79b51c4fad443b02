import type { RedisClient } from '../../shared/redis.js';
import type { BarsQueryService } from '../../bars/query.js';
import type { QueueName } from '../../queues/names.js';
import type { Producer } from '../../queues/producer.js';
import { payloadSymbols } from '../../queues/progress.js';
import { contractNamed } from '../../queues/registry.js';
import type { Config } from '../../shared/config.js';
import type { Logger } from '../../shared/logger.js';
import type { Tokens } from '../auth.js';
import type { JobEventHub } from '../job-events.js';
import type { EnqueueRateLimit } from '../rate-limit.js';
import type { StreamedEvent } from './event-stream.js';
import { KeyedListeners } from '../../shared/listeners.js';

/** Jobs remembered by JobKinds; the oldest are forgotten first. */
const REMEMBERED_JOBS = 10_000;

/**
 * The name and symbols of jobs seen in event streams, so that a subscription to a job kind (and
 * symbol) can tell its jobs' events apart. Each job is read from Redis once.
 */
export class JobKinds {
  private readonly known = new Map<string, Promise<{ name: string; symbols: string[] } | null>>();

  constructor(private readonly producer: Producer) {}

  /** The queue of a job kind; UnknownJobError (404) for a name no contract has. */
  queueOf(name: string): QueueName {
    return contractNamed(name).queue;
  }

  describe(queue: QueueName, jobId: string): Promise<{ name: string; symbols: string[] } | null> {
    const key = `${queue}\n${jobId}`;
    let found = this.known.get(key);
    if (!found) {
      found = this.producer
        .queue(queue)
        .getJob(jobId)
        .then((job) => (job ? { name: job.name, symbols: payloadSymbols(job.data) } : null));
      this.known.set(key, found);
      if (this.known.size > REMEMBERED_JOBS) this.known.delete(this.known.keys().next().value!);
    }
    return found;
  }
}

/** Hands each event of the namespace's stream to the sessions subscribed to its channel. */
export class ChannelFanout {
  private readonly listeners = new KeyedListeners<string, (event: StreamedEvent) => void>();

  publish(event: StreamedEvent): void {
    for (const listener of this.listeners.of(event.channel)) listener(event);
  }

  subscribe(channel: string, listener: (event: StreamedEvent) => void): () => void {
    return this.listeners.add(channel, listener);
  }
}

/** A periodic broadcast sessions subscribe to. */
export interface Broadcast {
  subscribe(listener: (message: Record<string, unknown>) => void): () => void;
}

/** What every session of a web process shares. */
export interface RealtimeContext {
  config: Config;
  logger: Logger;
  tokens: Tokens;
  producer: Producer;
  /** The producer's connection: stream reads for resume, cancel requests. */
  redis: RedisClient;
  jobEvents: JobEventHub;
  jobKinds: JobKinds;
  channels: ChannelFanout;
  cachePerformance: Broadcast;
  bars: BarsQueryService;
  rateLimit: EnqueueRateLimit;
  /** Counts a client dropped for reading too slowly. */
  dropped(): void;
}
