import type { JobName, PayloadOf } from '../queues/registry.js';

/** A recurring job: BullMQ upserts it by id, so restarts and concurrent starts change nothing. */
export interface Schedule<out N extends JobName = JobName> {
  id: string;
  job: N;
  /** Cron pattern (minute hour day month weekday), read in `tz`. */
  pattern: string;
  tz: string;
  payload: PayloadOf<N>;
}

/** A schedule whose payload is checked against its own job's schema. */
export type AnySchedule = { [N in JobName]: Schedule<N> }[JobName];

/** Every recurring job tickforge runs. */
export const SCHEDULES: readonly AnySchedule[] = [
  {
    id: 'eod-pipeline',
    job: 'eod-trigger',
    pattern: '30 16 * * 1-5',
    tz: 'America/New_York',
    payload: {},
  },
  {
    id: 'backup',
    job: 'backup',
    pattern: '0 2 * * *',
    tz: 'UTC',
    payload: {},
  },
];
