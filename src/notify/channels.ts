import { isDefaultNamespace } from '../shared/namespace.js';
import type { SyncComplete } from '../universes/eod-sync.contract.js';
import type { AlertTransition } from '../metrics/alert-engine.js';
import type { UniverseRunChanges } from '../universes/sync.repository.js';

/**
 * Every Redis pub/sub channel tickforge publishes on or listens to, by key, as the default
 * namespace names them: the TickStock names. docs/events.md documents each payload.
 */
export const CHANNELS = {
  universeUpdated: 'tickstock.universe.updated',
  cacheSyncComplete: 'tickstock.cache.sync_complete',
  scenarioLoaded: 'tickstock.scenario.loaded',
  eodComplete: 'tickstock.eod.complete',
  barsUpdated: 'tickstock.bars.updated',
  advancedError: 'tickstock.advanced.error',
  automationStatus: 'tickstock.automation.status',
  patternsDetected: 'tickstock.patterns.detected',
  performanceAlert: 'tickstock.advanced.performance_alert',
  analyticsUpdated: 'tickstock.analytics.updated',
  etfCorrelationUpdate: 'tickstock.etf.correlation_update',
} as const;

export type ChannelKey = keyof typeof CHANNELS;

/** tickstock.bars.updated: bars of one symbol were written and are readable now. */
export interface BarsUpdated {
  symbol: string;
  /** Each series of the symbol the job wrote: its timeframe, variant and the bars it stored. */
  series: Array<{ timeframe: string; variant: string; rows: number }>;
  /** The first and last bar start the write covered (ISO-8601 UTC); null when nothing was stored. */
  from: string | null;
  to: string | null;
  /** The job kind that wrote them. */
  job: string;
}

/** tickstock.universe.updated: one universe's membership changed in a sync run. */
export interface UniverseUpdated extends UniverseRunChanges {
  trading_date: string;
  run_id: string;
}

/** tickstock.scenario.loaded: a scenario run was stored in a sandbox schema. */
export interface ScenarioLoaded {
  run_id: string;
  scenario: string;
  seed: number;
  schema: string;
  symbols: number;
  timeframes: string[];
  passed: boolean;
}

/** tickstock.eod.complete: the market data of a trading date is complete (sent by the data side; `date` is accepted too). */
export type EodComplete = { trading_date: string } | { date: string };

/** tickstock.advanced.error: a job failed for good. */
export interface JobFailed {
  queue: string;
  job_id: string;
  job_name: string;
  attempts: number;
  reason: string;
}

/** tickstock.automation.status: where the end-of-day pipeline of a date stands. */
export interface AutomationStatus {
  pipeline: 'eod';
  date: string;
  /** running (a step started), completed, or what a request for the date came to. */
  status: 'running' | 'completed' | 'requested' | 'not-a-session' | 'already-completed';
  step?: string;
  steps?: string[];
}

/** tickstock.patterns.detected: a detect-patterns run stored its detections. */
export interface PatternsDetected {
  timeframe: string;
  /** The range asked for (ISO-8601 UTC), null where it was open. */
  from: string | null;
  to: string | null;
  /** Symbols scanned and detections stored. */
  symbols: number;
  detections: number;
  /** Detections per pattern key. */
  counts: Record<string, number>;
  /** The detector version each pattern was stored under. */
  versions: Record<string, string>;
  job: string;
}

/**
 * tickstock.advanced.performance_alert: an alert fired (its condition started) or resolved;
 * `alert` carries the rule, subject, severity, figure, threshold, message, since and resolvedAt.
 */
export type PerformanceAlert = AlertTransition;

/** tickstock.analytics.updated: a pattern analysis was stored and the analytics routes serve it. */
export interface AnalyticsUpdated {
  analysis_id: number;
  as_of: string;
  /** The analysis' scope: timeframe, universe or symbols, range, detector version, patterns. */
  scope: Record<string, unknown>;
  detections: number;
  /** Outcomes labelled or relabelled by the run. */
  labelled: number;
}

/** The payload of each channel. */
/** ETF theme correlations that moved past the threshold in one sync run. */
export interface EtfCorrelationUpdate {
  trading_date: string;
  run_id: string;
  /** The move a pair's correlation had to exceed. */
  threshold: number;
  moves: Array<{ universe: string; window: number; a: string; b: string; before: number; after: number }>;
}

export interface EventPayloads {
  universeUpdated: UniverseUpdated;
  cacheSyncComplete: SyncComplete;
  scenarioLoaded: ScenarioLoaded;
  eodComplete: EodComplete;
  barsUpdated: BarsUpdated;
  advancedError: JobFailed;
  automationStatus: AutomationStatus;
  patternsDetected: PatternsDetected;
  performanceAlert: PerformanceAlert;
  analyticsUpdated: AnalyticsUpdated;
  etfCorrelationUpdate: EtfCorrelationUpdate;
}

/** The envelope every event carries, on the channel and in the stream. */
export interface EventEnvelope<T = unknown> {
  timestamp: string;
  service: string;
  version: string;
  event_type: string;
  data: T;
  /** The id of the job that caused the event, when a job did. */
  correlation_id: string | null;
}

/**
 * The Redis channel of a channel key in a deployment's namespace (TICKFORGE_PREFIX): the
 * TickStock name in the default namespace, `<prefix>:<TickStock name>` in any other, so
 * deployments sharing a Redis server never hear each other (pub/sub ignores the database index).
 */
export function channelName(key: ChannelKey, prefix: string): string {
  return isDefaultNamespace(prefix) ? CHANNELS[key] : `${prefix}:${CHANNELS[key]}`;
}

/** The TickStock name of a namespace's channel (`ns:tickstock.bars.updated` → `tickstock.bars.updated`). */
export function tickstockName(channel: string): string {
  return channel.replace(/^.*:(?=tickstock\.)/, '');
}

/** Every channel of a namespace, by key. */
export function channelsOf(prefix: string): Record<ChannelKey, string> {
  const keys = Object.keys(CHANNELS) as ChannelKey[];
  return Object.fromEntries(keys.map((key) => [key, channelName(key, prefix)])) as Record<ChannelKey, string>;
}
