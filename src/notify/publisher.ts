import type { RedisClient } from '../shared/redis.js';
import { VERSION } from '../shared/version.js';
import { CHANNELS, channelName, type ChannelKey, type EventEnvelope, type EventPayloads } from './channels.js';

export interface PublisherOptions {
  service: string;
  /** The deployment's namespace (TICKFORGE_PREFIX): it names the channels. */
  prefix: string;
  stream: string;
  streamMaxLen: number;
  /** Told of every event once it is published, by its TickStock channel name without the namespace (for the metrics). */
  onPublished?: (channel: string) => void;
}

/**
 * Announces events on a pub/sub channel and appends them to one Redis stream (trimmed to
 * about `streamMaxLen` entries) for consumers that were offline. Call it only after the
 * database commit the event describes.
 */
export class Publisher {
  constructor(
    private readonly redis: RedisClient,
    private readonly options: PublisherOptions,
  ) {}

  /** Publishes `data` on the channel; the compiler holds it to the channel's payload type. */
  async publish<K extends ChannelKey>(
    key: K,
    data: EventPayloads[K],
    correlationId?: string | null,
  ): Promise<EventEnvelope<EventPayloads[K]>> {
    const channel = channelName(key, this.options.prefix);
    const envelope: EventEnvelope<EventPayloads[K]> = {
      timestamp: new Date().toISOString(),
      service: this.options.service,
      version: VERSION,
      event_type: CHANNELS[key].replace(/^tickstock\./, ''),
      data,
      correlation_id: correlationId ?? null,
    };
    const body = JSON.stringify(envelope);
    const results = await this.redis
      .multi()
      .publish(channel, body)
      .xadd(this.options.stream, 'MAXLEN', '~', this.options.streamMaxLen, '*', 'channel', channel, 'event', body)
      .exec();
    const failed = results?.find(([error]) => error);
    if (failed) throw failed[0];
    this.options.onPublished?.(CHANNELS[key]);
    return envelope;
  }
}
