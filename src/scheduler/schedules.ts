import type { JobName, PayloadOf } from '../../jobs/index.js';

/** A recurring job: BullMQ upserts it by id, so restarts and concurrent starts change nothing. */
export interface Schedule<N extends JobName = JobName> {
  id: string;
  job: N;
  /** Cron pattern (minute hour day month weekday), read in `tz`. */
  pattern: string;
  tz: string;
  payload: PayloadOf<N>;
}

/** Every recurring job tickforge runs. */
export const SCHEDULES: Schedule[] = [
  {
    id: 'eod-pipeline',
    job: 'eod-trigger',
    pattern: '30 16 * * 1-5',
    tz: 'America/New_York',
    payload: {},
  },
];
