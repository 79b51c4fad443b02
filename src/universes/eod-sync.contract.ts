import { z } from 'zod';
import { defineContract, STANDARD_DEFAULTS } from '../queues/contract.js';
import { pastTradingDateSchema } from '../shared/calendar.js';
import type { RunSummary } from './sync.repository.js';

/** What a sync run changed, as eod-sync returns it and announces it on tickstock.cache.sync_complete. */
export interface SyncComplete extends RunSummary {
  universes_changed: string[];
  /** Per task: its duration and the findings it noted. */
  task_details: Record<string, Record<string, unknown> & { duration_ms: number }>;
}

/**
 * eod-sync: the end-of-day universe sync for one trading date, a flow of five eod-sync-task
 * children, then a summary and notifications.
 */
export const eodSyncContract = defineContract<SyncComplete>()({
  name: 'eod-sync',
  queue: 'sync',
  description: 'End-of-day universe sync for a trading date: five task children, then a summary and notifications',
  schema: z.object({ date: pastTradingDateSchema }).strict(),
  defaults: STANDARD_DEFAULTS,
});
