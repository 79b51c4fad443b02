/** Every Redis pub/sub channel tickforge publishes on. */
export const CHANNELS = {
  universeUpdated: 'tickstock.universe.updated',
  cacheSyncComplete: 'tickstock.cache.sync_complete',
  scenarioLoaded: 'tickstock.scenario.loaded',
  eodComplete: 'tickstock.eod.complete',
  barsUpdated: 'tickstock.bars.updated',
  advancedError: 'tickstock.advanced.error',
  automationStatus: 'tickstock.automation.status',
} as const;

export type Channel = (typeof CHANNELS)[keyof typeof CHANNELS];

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
