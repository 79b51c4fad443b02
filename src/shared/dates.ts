import { z } from 'zod';
import { isCalendarDate } from './zone.js';

/** A YYYY-MM-DD calendar date, as payloads and query strings carry dates. */
export const calendarDateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a YYYY-MM-DD date')
  .refine(isCalendarDate, 'must be a calendar date');

/**
 * The years a stored or requested instant may fall in. Every step — parsing, the calendar,
 * PostgreSQL and ISO-8601 formatting — can represent them, so a value a schema accepts never
 * fails later.
 */
export const YEAR_RANGE = { first: 1900, last: 2199 } as const;
const EARLIEST = Date.UTC(YEAR_RANGE.first, 0, 1);
const AFTER_LAST = Date.UTC(YEAR_RANGE.last + 1, 0, 1);

/** True when an epoch-ms instant is within YEAR_RANGE. */
export function isInstantInRange(epochMs: number): boolean {
  return epochMs >= EARLIEST && epochMs < AFTER_LAST;
}

/** What a value outside YEAR_RANGE is told. */
export const YEAR_RANGE_MESSAGE = `must be in the years ${YEAR_RANGE.first}–${YEAR_RANGE.last}`;
