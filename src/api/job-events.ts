import { QueueEvents } from 'bullmq';
import type { RedisClient } from '../shared/redis.js';
import type { QueueName } from '../queues/names.js';
import { KeyedListeners } from '../shared/listeners.js';

export type JobEvent =
  | { type: 'progress'; data: unknown }
  | { type: 'completed'; returnvalue: unknown }
  | { type: 'failed'; failedReason: string }
  /** The server is stopping; the stream should end. */
  | { type: 'closing' };

/** Called with a job's event and its id in the queue's event stream (absent for `closing`). */
type Listener = (event: JobEvent, streamId?: string) => void;

/** Called with every job event of a queue. */
export type QueueListener = (jobId: string, event: JobEvent, streamId: string) => void;

/**
 * One QueueEvents reader per queue for the whole web process, fanning events out to the
 * clients watching a particular job.
 */
export class JobEventHub {
  private readonly readers = new Map<QueueName, QueueEvents>();
  private readonly listeners = new KeyedListeners<string, Listener>();
  private readonly queueListeners = new KeyedListeners<QueueName, QueueListener>();

  constructor(
    private readonly connection: RedisClient,
    private readonly prefix: string,
  ) {}

  /** Starts reading the queues' event streams now, so no event is missed later. */
  async open(queues: readonly QueueName[]): Promise<void> {
    await Promise.all(queues.map((queue) => this.reader(queue).waitUntilReady()));
  }

  private reader(queue: QueueName): QueueEvents {
    let reader = this.readers.get(queue);
    if (!reader) {
      reader = new QueueEvents(queue, { connection: this.connection, prefix: this.prefix });
      reader.on('error', () => {
        // Reconnection is ioredis's job; a dropped connection must not crash the server.
      });
      reader.on('progress', ({ jobId, data }, id) => this.emit(queue, jobId, { type: 'progress', data }, id));
      reader.on('completed', ({ jobId, returnvalue }, id) => this.emit(queue, jobId, { type: 'completed', returnvalue }, id));
      reader.on('failed', ({ jobId, failedReason }, id) => this.emit(queue, jobId, { type: 'failed', failedReason }, id));
      this.readers.set(queue, reader);
    }
    return reader;
  }

  private emit(queue: QueueName, jobId: string, event: JobEvent, streamId: string): void {
    for (const listener of this.listeners.of(`${queue}\n${jobId}`)) listener(event, streamId);
    for (const listener of this.queueListeners.of(queue)) listener(jobId, event, streamId);
  }

  /** Calls `listener` for every job event of the queue until the returned function is called. */
  watchQueue(queue: QueueName, listener: QueueListener): () => void {
    this.reader(queue);
    return this.queueListeners.add(queue, listener);
  }

  /** SSE streams open on this process (one listener each). */
  get connections(): number {
    return this.listeners.size;
  }

  /** Calls `listener` for every event of the job until the returned function is called. */
  subscribe(queue: QueueName, jobId: string, listener: Listener): () => void {
    this.reader(queue);
    return this.listeners.add(`${queue}\n${jobId}`, listener);
  }

  /** Tells every watcher the server is stopping, then stops reading. */
  async close(): Promise<void> {
    for (const listener of this.listeners.all()) listener({ type: 'closing' });
    await Promise.all([...this.readers.values()].map((reader) => reader.close()));
    this.readers.clear();
    this.listeners.clear();
    this.queueListeners.clear();
  }
}
