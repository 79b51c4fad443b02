import { z } from 'zod';
import { barsQuerySchema } from '../../bars/query.js';
import { QUEUES } from '../../queues/names.js';
import type { JobName } from '../../queues/registry.js';

/** The subprotocol the server speaks; a browser offers it next to `bearer.<token>`. */
export const SUBPROTOCOL = 'tickforge.v1';

/** The prefix of the subprotocol entry that carries a browser's token. */
export const TOKEN_SUBPROTOCOL_PREFIX = 'bearer.';

/** Close codes the server ends a connection with (4000–4999 are the application's own). */
export const CLOSE = {
  normal: 1000,
  /** The web process is stopping; reconnect (to another process) and resume. */
  goingAway: 1001,
  /** A binary frame: the protocol is JSON text. */
  unsupportedData: 1003,
  /** No token, a wrong one, or none within AUTH_TIMEOUT_MS. */
  unauthorized: 4401,
  /** More than TICKFORGE_WS_MAX_BUFFERED_BYTES unread, or a chunk not taken within SLOW_WRITE_MS. */
  slowConsumer: 4008,
} as const;

/** How long a connection without a token in its handshake has to send `{type: "auth"}`. */
export const AUTH_TIMEOUT_MS = 5_000;

/** How long one chunk may wait to be taken by the client's socket before the client counts as stuck. */
export const SLOW_WRITE_MS = 30_000;

/** Bars per historical_data_chunk unless the request asks otherwise (the TradeAssist plan's figure). */
export const DEFAULT_CHUNK_BARS = 100;
export const MAX_CHUNK_BARS = 10_000;

/** At most this many stream entries are read back for one resumed subscription. */
export const RESUME_MAX_ENTRIES = 10_000;

/** Subscriptions one connection may hold at once. */
export const MAX_SUBSCRIPTIONS = 100;

/**
 * The message family of each job kind: its progress goes out as `<kind>_progress`, its end as
 * `<kind>_complete` or `<kind>_error`. A new job kind must name its family here (the compiler
 * checks that every job name has one).
 */
export const JOB_MESSAGE_KINDS: Record<JobName, string> = {
  'import-bars': 'historical_data',
  'aggregate-bars': 'aggregation',
  'warm-cache': 'cache_warming',
  'export-bars': 'bars_export',
  'import-futures': 'futures_import',
  'build-continuous': 'continuous_futures',
  'import-symbols': 'symbols_import',
  'eod-sync': 'eod_sync',
  'eod-sync-task': 'eod_sync_task',
  'eod-pipeline': 'eod_pipeline',
  'eod-trigger': 'eod_trigger',
  'generate-scenario': 'scenario',
  'detect-patterns': 'pattern_detection',
  'analyze-patterns': 'pattern_analysis',
  backup: 'backup',
  noop: 'noop',
};

/** The event channels a client may subscribe to, by the name it uses (the channel without `tickstock.`). */
export const EVENT_CHANNELS = [
  'bars.updated',
  'universe.updated',
  'cache.sync_complete',
  'scenario.loaded',
  'eod.complete',
  'advanced.error',
  'automation.status',
  'patterns.detected',
  'advanced.performance_alert',
  'analytics.updated',
] as const;

/** Short names accepted for channels whose TickStock name is long. */
export const CHANNEL_ALIASES: Record<string, (typeof EVENT_CHANNELS)[number]> = {
  performance_alert: 'advanced.performance_alert',
  error: 'advanced.error',
};

/** Periodic broadcasts a client may subscribe to. */
export const BROADCASTS = ['cache_performance'] as const;

const requestId = z.string().min(1).max(100).describe('echoed in the replies to this request');
const subscriptionId = z
  .string()
  .min(1)
  .max(100)
  .describe('the client’s name for the subscription; every message of it carries it back');
const streamId = z
  .string()
  .regex(/^\d+-\d+$/, 'must be a message id the server sent, such as 1733100000000-0')
  .describe('resume: also send what the subscription missed after this message id');

const channelName = z
  .string()
  .transform((name) => CHANNEL_ALIASES[name] ?? name.replace(/^tickstock\./, ''))
  .pipe(z.enum(EVENT_CHANNELS, { message: `must be one of ${EVENT_CHANNELS.join(', ')}, performance_alert` }));

const jobTarget = z.union([
  z.object({ queue: z.enum(QUEUES), id: z.string().min(1).max(200) }).strict(),
  z
    .object({
      name: z.string().min(1).max(100),
      symbol: z.string().min(1).max(40).optional().describe('only jobs whose payload names this symbol'),
    })
    .strict(),
]);

const subscribe = z
  .object({
    type: z.literal('subscribe'),
    subscription: subscriptionId.optional(),
    job: jobTarget.optional(),
    channel: channelName.optional(),
    broadcast: z.enum(BROADCASTS).optional(),
    since: streamId.optional(),
  })
  .strict()
  .refine((message) => [message.job, message.channel, message.broadcast].filter(Boolean).length === 1, {
    message: 'name exactly one of job, channel or broadcast',
  });

/** Every message a client may send. */
export const clientMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('auth'), token: z.string().min(1).max(500) }).strict(),
  subscribe,
  z.object({ type: z.literal('unsubscribe'), subscription: subscriptionId }).strict(),
  z
    .object({
      type: z.literal('submit'),
      requestId,
      name: z.string().min(1).max(100),
      payload: z.unknown(),
      idempotencyKey: z.string().min(1).max(200).optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('cancel'),
      requestId,
      queue: z.enum(QUEUES),
      id: z.string().min(1).max(200),
      reason: z.string().min(1).max(500).default('cancelled over the WebSocket'),
    })
    .strict(),
  z
    .object({
      type: z.literal('bars'),
      requestId,
      query: barsQuerySchema,
      chunkSize: z.number().int().min(1).max(MAX_CHUNK_BARS).default(DEFAULT_CHUNK_BARS),
    })
    .strict(),
]);

export type ClientMessage = z.output<typeof clientMessageSchema>;
export type SubscribeMessage = Extract<ClientMessage, { type: 'subscribe' }>;
export type JobTarget = z.output<typeof jobTarget>;
export type EventChannelName = (typeof EVENT_CHANNELS)[number];
