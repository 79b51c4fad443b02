import type { RedisClient } from '../../shared/redis.js';
import { tickstockName, type EventEnvelope } from '../../notify/channels.js';

/** One event read from the namespace's event stream, with its id there. */
export interface StreamedEvent {
  id: string;
  /** The channel without its namespace and `tickstock.`, such as `bars.updated`. */
  channel: string;
  envelope: EventEnvelope;
}

/** Entries read per round trip. */
const BATCH = 500;
/** How long one blocking read waits before looking again whether the reader was stopped. */
const BLOCK_MS = 1_000;

type Entry = [id: string, fields: string[]];

/** An entry of the event stream as the publisher wrote it (`channel`, `event`), or null if it is not one. */
export function parseEntry([id, fields]: Entry): StreamedEvent | null {
  const field = (name: string) => {
    const at = fields.indexOf(name);
    return at >= 0 && at % 2 === 0 ? fields[at + 1] : undefined;
  };
  const channel = field('channel');
  const body = field('event');
  if (channel === undefined || body === undefined) return null;
  try {
    return { id, channel: tickstockName(channel).replace(/^tickstock\./, ''), envelope: JSON.parse(body) as EventEnvelope };
  } catch {
    return null;
  }
}

/**
 * Follows the namespace's event stream (TICKFORGE_EVENT_STREAM) from the moment it opens and
 * hands every event to `onEvent`. Every web process runs one, so an event published by any
 * process reaches each process once; the stream ids let a reconnecting client resume.
 */
export class EventStreamReader {
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(
    /** A connection of its own: the reads block. */
    private readonly connection: RedisClient,
    private readonly stream: string,
    private readonly onEvent: (event: StreamedEvent) => void,
  ) {}

  /** Resolves once the reader knows where the stream ends, so nothing published after is missed. */
  async open(): Promise<void> {
    const [last] = (await this.connection.xrevrange(this.stream, '+', '-', 'COUNT', 1)) as Entry[];
    let cursor = last?.[0] ?? '0-0';
    this.loop = (async () => {
      while (!this.stopped) {
        try {
          const answer = (await this.connection.xread(
            'COUNT',
            BATCH,
            'BLOCK',
            BLOCK_MS,
            'STREAMS',
            this.stream,
            cursor,
          )) as Array<[string, Entry[]]> | null;
          for (const entry of answer?.[0]?.[1] ?? []) {
            cursor = entry[0];
            const event = parseEntry(entry);
            if (event) this.onEvent(event);
          }
        } catch {
          // Reconnection is ioredis's job; wait a little rather than spin while Redis is away.
          if (!this.stopped) await new Promise((resolve) => setTimeout(resolve, BLOCK_MS));
        }
      }
    })();
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

/**
 * The entries of `stream` after `since` (exclusive), oldest first, at most `limit` of them;
 * `truncated` when there were more. A `since` older than the stream's first entry (trimmed
 * away) reads from the oldest entry still there.
 */
export async function readAfter(
  redis: RedisClient,
  stream: string,
  since: string,
  limit: number,
): Promise<{ entries: Entry[]; truncated: boolean }> {
  const entries = (await redis.xrange(stream, `(${since}`, '+', 'COUNT', limit + 1)) as Entry[];
  return { entries: entries.slice(0, limit), truncated: entries.length > limit };
}
