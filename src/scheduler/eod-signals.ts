import os from 'node:os';
import { z } from 'zod';
import type { Logger } from '../shared/logger.js';
import { channelName } from '../notify/channels.js';
import { closeRedis, createRedis, type RedisClient, type RedisConnection } from '../shared/redis.js';

/** The consumer group the schedulers read the event stream with: each entry goes to one of them. */
export const SIGNAL_GROUP = 'tickforge-scheduler';

const dateField = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const carriesDate = z.union([z.object({ trading_date: dateField }).loose(), z.object({ date: dateField }).loose()]);
const signalSchema = z.union([z.object({ data: carriesDate }).loose(), carriesDate]);

/**
 * The trading date an eod_complete message names. Accepts the tickforge envelope (the date in
 * `data.trading_date` or `data.date`) or a bare object with one of those fields.
 */
export function signalDate(message: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return undefined;
  }
  const parsed = signalSchema.safeParse(value);
  if (!parsed.success) return undefined;
  const body = ('data' in parsed.data ? parsed.data.data : parsed.data) as { trading_date?: string; date?: string };
  return body.trading_date ?? body.date;
}

export type SignalHandler = (date: string, source: 'pubsub' | 'stream') => Promise<void>;

/** How long a stream read blocks before it looks at the stop flag again. */
const BLOCK_MS = 2_000;
/** Entries another consumer took but did not acknowledge for this long are taken over. */
const CLAIM_IDLE_MS = 60_000;

/**
 * Listens for its namespace's eod_complete channel (`tickstock.eod.complete` in the default
 * namespace) on pub/sub (immediate) and in the namespace's event stream through a consumer
 * group (signals sent while no scheduler was running are read on start). Either path calls
 * the handler; the pipeline's date-derived job id makes a repeat harmless. Signals of other
 * deployments on the same Redis travel on other channels and streams and are never seen.
 */
export class EodSignalListener {
  private readonly subscriber: RedisClient;
  private readonly reader: RedisClient;
  private readonly consumer = `${os.hostname()}:${process.pid}`;
  /** The channel this deployment's eod_complete signals arrive on. */
  readonly channel: string;
  private stopped = false;
  private loop?: Promise<void>;

  constructor(
    connection: RedisConnection,
    prefix: string,
    private readonly stream: string,
    private readonly logger: Logger,
    private readonly onSignal: SignalHandler,
  ) {
    this.channel = channelName('eodComplete', prefix);
    this.subscriber = createRedis(connection, 'subscriber', 'tickforge-scheduler-signals');
    this.reader = createRedis(connection, 'subscriber', 'tickforge-scheduler-stream');
    for (const connection of [this.subscriber, this.reader]) {
      connection.on('error', (error) => logger.debug({ err: error }, 'Redis connection error'));
    }
  }

  async start(): Promise<void> {
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel) void this.handle(message, 'pubsub');
    });
    await this.subscriber.subscribe(this.channel);
    try {
      await this.reader.xgroup('CREATE', this.stream, SIGNAL_GROUP, '$', 'MKSTREAM');
    } catch (error) {
      if (!String((error as Error).message).includes('BUSYGROUP')) throw error;
    }
    await this.claimAbandoned();
    this.loop = this.read();
  }

  private async handle(message: string, source: 'pubsub' | 'stream'): Promise<void> {
    const date = signalDate(message);
    if (date === undefined) {
      this.logger.warn({ source, message: message.slice(0, 200) }, 'eod_complete signal without a trading date ignored');
      return;
    }
    try {
      await this.onSignal(date, source);
    } catch (error) {
      this.logger.error({ err: error, date, source }, `could not start the pipeline for ${date}: ${(error as Error).message}`);
    }
  }

  private async process(entries: Array<[string, string[]]>): Promise<void> {
    for (const [id, fields] of entries) {
      const channel = fields[fields.indexOf('channel') + 1];
      const event = fields[fields.indexOf('event') + 1];
      if (channel === this.channel && event !== undefined) await this.handle(event, 'stream');
      await this.reader.xack(this.stream, SIGNAL_GROUP, id);
    }
  }

  /** Takes over entries a scheduler that died had read but not handled. */
  private async claimAbandoned(): Promise<void> {
    let cursor = '0-0';
    do {
      const [next, entries] = (await this.reader.xautoclaim(
        this.stream,
        SIGNAL_GROUP,
        this.consumer,
        CLAIM_IDLE_MS,
        cursor,
        'COUNT',
        100,
      )) as [string, Array<[string, string[]]>];
      await this.process(entries.filter((entry) => entry !== null));
      cursor = next;
    } while (cursor !== '0-0');
  }

  private async read(): Promise<void> {
    while (!this.stopped) {
      try {
        const result = (await this.reader.xreadgroup(
          'GROUP',
          SIGNAL_GROUP,
          this.consumer,
          'COUNT',
          100,
          'BLOCK',
          BLOCK_MS,
          'STREAMS',
          this.stream,
          '>',
        )) as Array<[string, Array<[string, string[]]>]> | null;
        if (result) await this.process(result[0][1]);
      } catch (error) {
        if (this.stopped) return;
        this.logger.warn({ err: error }, `reading the event stream failed: ${(error as Error).message}; retrying`);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await closeRedis(this.subscriber);
    // Ends a blocked read at once instead of waiting out BLOCK_MS.
    this.reader.disconnect();
    await this.loop;
  }
}
