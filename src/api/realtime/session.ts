import type { WebSocket } from 'ws';
import { entryText } from '../../bars/cache.js';
import { cancelJob } from '../../queues/cancel.js';
import type { QueueName } from '../../queues/names.js';
import { parseOrThrow } from '../../shared/validation.js';
import { ValidationError } from '../../shared/errors.js';
import { roleOfToken, tokenIdOf, type Role } from '../auth.js';
import { HttpError, describeError } from '../errors.js';
import type { JobEvent } from '../job-events.js';
import { parseEntry, readAfter } from './event-stream.js';
import { compareStreamIds, jobEventOfEntry, jobMessage, sharedText, withSubscription, type JobRef } from './job-messages.js';
import {
  AUTH_TIMEOUT_MS,
  CLOSE,
  MAX_SUBSCRIPTIONS,
  RESUME_MAX_ENTRIES,
  SLOW_WRITE_MS,
  clientMessageSchema,
  type ClientMessage,
  type SubscribeMessage,
} from './protocol.js';
import type { RealtimeContext } from './context.js';

/** How long a dropped client has to take its close frame before its socket is destroyed. */
const CLOSE_GRACE_MS = 10_000;

type Message = Record<string, unknown>;
/** A message, or the JSON text of one already serialised. */
type Outgoing = Message | string;
type FinalJobEvent = Exclude<JobEvent, { type: 'closing' }>;

/** A live subscription: what stops it, and its messages held back while its missed ones are read back. */
interface Subscription {
  stop: () => void;
  /** Live messages that arrived during the replay, sent after it (those it did not already send). */
  held?: Array<{ id: string; message: Outgoing }>;
  /** The last stream entry a replay read: a live message of that entry or an earlier one arrives late and is dropped. */
  replayedThrough?: string;
}

/**
 * One WebSocket client: its role, its subscriptions and what it asked for. Messages leave through
 * `send`, which drops the client (close 4008) once more than TICKFORGE_WS_MAX_BUFFERED_BYTES wait
 * unsent, so a client that does not read never makes the web process buffer without bound.
 */
export class RealtimeSession {
  private readonly subscriptions = new Map<string, Subscription>();
  private nextSubscription = 1;
  private tokenKey: string;
  private dropped = false;
  /** The connection is closing or closed. */
  private ended = false;
  /** Whether the client answered the last ping. */
  alive = true;
  private authTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly context: RealtimeContext,
    private role: Role | undefined,
    token: string | undefined,
    address: string,
  ) {
    this.tokenKey = token === undefined ? `ip:${address}` : tokenIdOf(token);
  }

  start(): void {
    this.ws.on('message', (data, isBinary) => {
      if (isBinary) return this.close(CLOSE.unsupportedData, 'messages are JSON text');
      this.receive(data.toString()).catch((error: unknown) => this.reportError(undefined, error));
    });
    this.ws.on('pong', () => {
      this.alive = true;
    });
    this.ws.on('close', () => this.stop());
    this.ws.on('error', () => this.stop());
    if (this.role === undefined) {
      this.authTimer = setTimeout(
        () => this.close(CLOSE.unauthorized, `no token: send {"type":"auth","token":…} within ${AUTH_TIMEOUT_MS} ms`),
        AUTH_TIMEOUT_MS,
      );
    } else this.send({ type: 'welcome', role: this.role });
  }

  /** Pings the client; one that did not answer the previous ping is gone and is cut off. */
  heartbeat(): void {
    if (!this.alive) {
      this.ws.terminate();
      return;
    }
    this.alive = false;
    this.ws.ping();
  }

  /** Bytes waiting to be sent to this client. */
  get buffered(): number {
    return this.ws.bufferedAmount;
  }

  /** Whether the client can take one more message; drops it when it has too much unread. */
  private writable(): boolean {
    if (this.dropped || this.ws.readyState !== this.ws.OPEN) return false;
    if (this.ws.bufferedAmount > this.context.config.wsMaxBufferedBytes) {
      this.drop(`too slow: ${this.ws.bufferedAmount} bytes unread (limit ${this.context.config.wsMaxBufferedBytes})`);
      return false;
    }
    return true;
  }

  /**
   * Sends a message unless the client has too much unread already, in which case it is
   * dropped; false when the message was not sent.
   */
  send(message: Outgoing): boolean {
    if (!this.writable()) return false;
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
    return true;
  }

  /** Sends and resolves once the socket took the message: a stream of chunks goes at the client's pace. */
  private sendPaced(message: Message): Promise<boolean> {
    if (!this.writable()) return Promise.resolve(false);
    return new Promise((resolve) => {
      const stuck = setTimeout(() => {
        this.drop(`too slow: a chunk waited ${SLOW_WRITE_MS} ms to be taken`);
        resolve(false);
      }, SLOW_WRITE_MS);
      // ws calls back once the frame is handed to the operating system's socket.
      this.ws.send(JSON.stringify(message), (error) => {
        clearTimeout(stuck);
        resolve(!error && !this.dropped);
      });
    });
  }

  private drop(reason: string): void {
    if (this.dropped) return;
    this.dropped = true;
    this.context.logger.warn({ buffered: this.ws.bufferedAmount }, `WebSocket client dropped: ${reason}`);
    this.context.dropped();
    this.ws.close(CLOSE.slowConsumer, reason.slice(0, 120));
    setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS).unref();
    this.stop();
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason.slice(0, 120));
    setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS).unref();
    this.stop();
  }

  /** Ends every subscription; the connection is closing. */
  stop(): void {
    this.ended = true;
    clearTimeout(this.authTimer);
    for (const subscription of this.subscriptions.values()) subscription.stop();
    this.subscriptions.clear();
  }

  private async receive(text: string): Promise<void> {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      this.send({ type: 'error', status: 400, error: 'a message must be one JSON object' });
      return;
    }
    const requestId =
      typeof body === 'object' && body !== null && typeof (body as { requestId?: unknown }).requestId === 'string'
        ? (body as { requestId: string }).requestId
        : undefined;
    try {
      const message = parseOrThrow(clientMessageSchema, body, 'message');
      if (this.role === undefined) return this.authenticate(message);
      await this.handle(message);
    } catch (error) {
      this.reportError(requestId, error);
    }
  }

  private reportError(requestId: string | undefined, error: unknown): void {
    if (this.role === undefined) {
      this.close(CLOSE.unauthorized, 'authenticate first: send {"type":"auth","token":…}');
      return;
    }
    const { status, body } = describeError(error);
    if (status >= 500) this.context.logger.error({ err: error }, 'WebSocket request failed');
    this.send({ type: 'error', ...(requestId !== undefined ? { requestId } : {}), status, ...body });
  }

  private authenticate(message: ClientMessage): void {
    if (message.type !== 'auth') {
      this.close(CLOSE.unauthorized, 'authenticate first: send {"type":"auth","token":…}');
      return;
    }
    const role = roleOfToken(message.token, this.context.tokens);
    if (role === undefined) {
      this.close(CLOSE.unauthorized, 'the token is not valid');
      return;
    }
    clearTimeout(this.authTimer);
    this.role = role;
    this.tokenKey = tokenIdOf(message.token);
    this.send({ type: 'welcome', role });
  }

  private requireWrite(): void {
    if (this.role !== 'write') throw new HttpError(403, 'this token is read-only');
  }

  private async handle(message: ClientMessage): Promise<void> {
    switch (message.type) {
      case 'auth':
        throw new HttpError(400, 'already authenticated');
      case 'subscribe':
        return this.subscribe(message);
      case 'unsubscribe': {
        const subscription = this.subscriptions.get(message.subscription);
        if (!subscription) throw new HttpError(404, `no subscription ${JSON.stringify(message.subscription)}`);
        subscription.stop();
        this.subscriptions.delete(message.subscription);
        this.send({ type: 'unsubscribed', subscription: message.subscription });
        return;
      }
      case 'submit':
        return this.submit(message);
      case 'cancel': {
        this.requireWrite();
        const result = await cancelJob(this.context.producer, this.context.redis, message);
        if (result.outcome === 'not-found')
          throw new HttpError(404, `no job ${JSON.stringify(message.id)} in queue ${message.queue}`);
        if (result.outcome === 'finished')
          throw new HttpError(409, `job ${message.id} has already ${result.state}; nothing to cancel`);
        this.send({ type: 'cancel_result', requestId: message.requestId, queue: message.queue, id: message.id, ...result });
        return;
      }
      case 'bars':
        return this.streamBars(message);
    }
  }

  private async submit(message: Extract<ClientMessage, { type: 'submit' }>): Promise<void> {
    this.requireWrite();
    const allowed = await this.context.rateLimit.consume(this.tokenKey);
    if ('retryAfter' in allowed) throw new HttpError(429, this.context.rateLimit.refusal(allowed.retryAfter));
    const job = await this.context.producer.enqueueByName(message.name, message.payload ?? {}, {
      idempotencyKey: message.idempotencyKey,
    });
    this.send({ type: 'submitted', requestId: message.requestId, job, subscription: message.requestId });
    // The submitter follows its job under the request's id.
    await this.subscribe({ type: 'subscribe', subscription: message.requestId, job: { queue: job.queue, id: job.id } }, false);
  }

  private reserve(message: SubscribeMessage): string {
    if (this.subscriptions.size >= MAX_SUBSCRIPTIONS) {
      throw new HttpError(429, `at most ${MAX_SUBSCRIPTIONS} subscriptions per connection`);
    }
    const id = message.subscription ?? `s${this.nextSubscription++}`;
    if (this.subscriptions.has(id)) throw new HttpError(409, `subscription ${JSON.stringify(id)} exists; unsubscribe first`);
    return id;
  }

  private async subscribe(message: SubscribeMessage, acknowledge = true): Promise<void> {
    const id = this.reserve(message);
    // Hold the name while the subscription is being set up.
    const subscription: Subscription = { stop: () => undefined };
    this.subscriptions.set(id, subscription);
    try {
      if (message.job && 'id' in message.job) await this.subscribeJob(id, subscription, message.job, message.since, acknowledge);
      else if (message.job) await this.subscribeJobKind(id, subscription, message.job, message.since, acknowledge);
      else if (message.channel) await this.subscribeChannel(id, subscription, message.channel, message.since, acknowledge);
      else {
        subscription.stop = this.context.cachePerformance.subscribe((snapshot) => this.send({ subscription: id, ...snapshot }));
        if (acknowledge) this.send({ type: 'subscribed', subscription: id, broadcast: message.broadcast });
      }
      // The client left while the subscription was being set up: nothing may keep listening for it.
      if (this.ended) subscription.stop();
    } catch (error) {
      subscription.stop();
      this.subscriptions.delete(id);
      throw error;
    }
  }

  /** Delivers a live message, or holds it while the subscription's missed messages are read back. */
  private deliver(subscription: Subscription, streamId: string, message: Outgoing): void {
    if (subscription.held) subscription.held.push({ id: streamId, message });
    else if (subscription.replayedThrough === undefined || compareStreamIds(streamId, subscription.replayedThrough) > 0) {
      this.send(message);
    }
  }

  /**
   * Reads back what a subscription missed after `since` (at most RESUME_MAX_ENTRIES stream
   * entries), then the live messages that came meanwhile and were not among them.
   */
  private async replay(
    id: string,
    subscription: Subscription,
    stream: string,
    since: string,
    toMessage: (entry: [string, string[]]) => Promise<Message | null>,
  ): Promise<void> {
    subscription.held = [];
    const { entries, truncated } = await readAfter(this.context.redis, stream, since, RESUME_MAX_ENTRIES);
    let last = since;
    let replayed = 0;
    for (const entry of entries) {
      const message = await toMessage(entry);
      last = entry[0];
      if (message && this.send(message)) replayed++;
    }
    const held = subscription.held;
    subscription.held = undefined;
    subscription.replayedThrough = last;
    for (const { id: streamId, message } of held) if (compareStreamIds(streamId, last) > 0) this.send(message);
    this.send({ type: 'resumed', subscription: id, since, replayed, truncated });
  }

  private async subscribeJob(
    id: string,
    subscription: Subscription,
    target: { queue: QueueName; id: string },
    since: string | undefined,
    acknowledge: boolean,
  ): Promise<void> {
    const queue = this.context.producer.queue(target.queue);
    const job = await queue.getJob(target.id);
    if (!job) throw new HttpError(404, `no job ${JSON.stringify(target.id.slice(0, 80))} in queue ${target.queue}`);
    const ref: JobRef = { queue: target.queue, jobId: job.id!, name: job.name };
    let ended = false;
    const end = (streamId: string | null, event: FinalJobEvent) => {
      if (ended) return;
      if (event.type !== 'progress') {
        ended = true;
        subscription.stop();
        this.subscriptions.delete(id);
      }
      if (streamId === null) this.send({ ...jobMessage(ref, event), id: null, subscription: id });
      else
        this.deliver(
          subscription,
          streamId,
          withSubscription(
            sharedText(event, () => ({ ...jobMessage(ref, event), id: streamId })),
            id,
          ),
        );
    };
    subscription.stop = this.context.jobEvents.subscribe(target.queue, ref.jobId, (event, streamId) => {
      if (event.type === 'closing') return;
      end(streamId ?? null, event);
    });
    const state = await job.getState();
    if (acknowledge) this.send({ type: 'subscribed', subscription: id, job: { ...ref, state } });
    if (since !== undefined) {
      await this.replay(id, subscription, queue.keys.events, since, async ([streamId, fields]) => {
        const parsed = jobEventOfEntry(fields);
        if (!parsed || parsed.jobId !== ref.jobId || ended) return null;
        if (parsed.event.type !== 'progress') {
          ended = true;
          subscription.stop();
          this.subscriptions.delete(id);
        }
        return { ...jobMessage(ref, parsed.event), id: streamId, subscription: id };
      });
    }
    // It may have ended before the subscription started: say so rather than wait for ever.
    if (state === 'completed') end(null, { type: 'completed', returnvalue: job.returnvalue });
    else if (state === 'failed') end(null, { type: 'failed', failedReason: job.failedReason });
  }

  private async subscribeJobKind(
    id: string,
    subscription: Subscription,
    target: { name: string; symbol?: string },
    since: string | undefined,
    acknowledge: boolean,
  ): Promise<void> {
    const queue = this.context.jobKinds.queueOf(target.name);
    const matches = async (jobId: string): Promise<JobRef | null> => {
      const job = await this.context.jobKinds.describe(queue, jobId);
      if (!job || job.name !== target.name) return null;
      if (target.symbol !== undefined && !job.symbols.includes(target.symbol)) return null;
      return { queue, jobId, name: job.name };
    };
    // Lookups run one after another, so messages keep the order of their events.
    let order = Promise.resolve();
    subscription.stop = this.context.jobEvents.watchQueue(queue, (jobId, event, streamId) => {
      if (event.type === 'closing') return;
      order = order
        .then(() => matches(jobId))
        .then((ref) => {
          if (!ref) return;
          const text = sharedText(event, () => ({ ...jobMessage(ref, event), id: streamId }));
          this.deliver(subscription, streamId, withSubscription(text, id));
        })
        .catch(() => undefined);
    });
    if (acknowledge) this.send({ type: 'subscribed', subscription: id, job: { queue, ...target } });
    if (since !== undefined) {
      await this.replay(id, subscription, this.context.producer.queue(queue).keys.events, since, async ([streamId, fields]) => {
        const parsed = jobEventOfEntry(fields);
        const ref = parsed && (await matches(parsed.jobId));
        return ref && parsed ? { ...jobMessage(ref, parsed.event), id: streamId, subscription: id } : null;
      });
    }
  }

  private async subscribeChannel(
    id: string,
    subscription: Subscription,
    channel: string,
    since: string | undefined,
    acknowledge: boolean,
  ): Promise<void> {
    subscription.stop = this.context.channels.subscribe(channel, (event) =>
      this.deliver(
        subscription,
        event.id,
        withSubscription(
          sharedText(event, () => ({ type: 'event', id: event.id, channel, ...event.envelope })),
          id,
        ),
      ),
    );
    if (acknowledge) this.send({ type: 'subscribed', subscription: id, channel });
    if (since !== undefined) {
      await this.replay(id, subscription, this.context.config.eventStream, since, async (entry) => {
        const event = parseEntry(entry);
        return event && event.channel === channel
          ? { type: 'event', id: event.id, subscription: id, channel, ...event.envelope }
          : null;
      });
    }
  }

  private async streamBars(message: Extract<ClientMessage, { type: 'bars' }>): Promise<void> {
    const { requestId, query, chunkSize } = message;
    const answer = await this.context.bars.answer(query).catch((error: unknown) => {
      if (error instanceof ValidationError) {
        this.send({ type: 'historical_data_error', requestId, status: 400, error: error.message, issues: error.issues });
        return undefined;
      }
      throw error;
    });
    if (answer === undefined) return;
    if (!answer.found) {
      this.send({ type: 'historical_data_error', requestId, status: 404, error: answer.reason });
      return;
    }
    const { bars, ...about } = JSON.parse(await entryText(answer.body)) as { bars: unknown[]; symbol: string; timeframe: string };
    const chunks = Math.max(1, Math.ceil(bars.length / chunkSize));
    for (let index = 0; index < chunks; index++) {
      const slice = bars.slice(index * chunkSize, (index + 1) * chunkSize);
      const sent = await this.sendPaced({ type: 'historical_data_chunk', requestId, ...about, index, chunks, bars: slice });
      if (!sent) return;
    }
    this.send({ type: 'historical_data_complete', requestId, ...about, bars: bars.length, chunks });
  }
}
