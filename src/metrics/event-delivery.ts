import type { RedisClient } from '../shared/redis.js';
import { channelsOf, tickstockName } from '../notify/channels.js';

/**
 * Listens on every tickstock channel of a deployment's namespace and reports, for each event, the
 * channel (its TickStock name, without the namespace) and when its
 * envelope says it was published: the delivery latency a subscriber on this host sees.
 */
export class EventDeliveryListener {
  private readonly onMessage = (channel: string, message: string) => {
    const publishedAt = Date.parse((JSON.parse(message) as { timestamp?: string }).timestamp ?? '');
    if (Number.isFinite(publishedAt)) this.observe(tickstockName(channel), publishedAt);
  };

  constructor(
    private readonly subscriber: RedisClient,
    private readonly prefix: string,
    private readonly observe: (channel: string, publishedAt: number) => void,
  ) {}

  async start(): Promise<void> {
    this.subscriber.on('message', this.onMessage);
    await this.subscriber.subscribe(...Object.values(channelsOf(this.prefix)));
  }

  async stop(): Promise<void> {
    this.subscriber.off('message', this.onMessage);
    await this.subscriber.unsubscribe().catch(() => undefined);
  }
}
