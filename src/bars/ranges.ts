import { z } from 'zod';
import type { TradingCalendar } from '../shared/calendar.js';
import type { SessionMode } from './sessions.js';
import { localMidnight, parseIsoDate } from '../shared/zone.js';
import { ValidationError } from '../shared/errors.js';
import { YEAR_RANGE, YEAR_RANGE_MESSAGE } from '../shared/dates.js';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * A range bound: a date (YYYY-MM-DD, a whole day on the mode's clock: the calendar's zone, or
 * UTC in 24h mode) or an ISO-8601 instant with an offset.
 */
export const rangeBoundSchema = z
  .string()
  .trim()
  .refine((value) => {
    if (DATE.test(value)) {
      try {
        parseIsoDate(value);
        return true;
      } catch {
        return false;
      }
    }
    return INSTANT.test(value) && Number.isFinite(Date.parse(value));
  }, 'must be a date (YYYY-MM-DD) or an ISO-8601 instant with an offset (2024-03-05T14:30:00Z)')
  .refine((value) => {
    const year = DATE.test(value) ? Number(value.slice(0, 4)) : new Date(Date.parse(value)).getUTCFullYear();
    // A value the check above refused is not this check's to name again.
    return Number.isNaN(year) || (year >= YEAR_RANGE.first && year <= YEAR_RANGE.last);
  }, YEAR_RANGE_MESSAGE);

/**
 * The instant (epoch ms) a bound stands for. A date `from` is the start of that day; a date
 * `to` includes that day (the start of the next one), so from=to=a date is one day. An instant
 * is itself; `to` is exclusive.
 */
export function resolveBound(value: string, side: 'from' | 'to', mode: SessionMode, calendar: TradingCalendar): number {
  if (!DATE.test(value)) return Date.parse(value);
  const [year, month, day] = parseIsoDate(value);
  const date = side === 'from' ? new Date(Date.UTC(year, month - 1, day)) : new Date(Date.UTC(year, month - 1, day + 1));
  if (mode === '24h') return date.getTime();
  return localMidnight(date.toISOString().slice(0, 10), calendar.timeZone);
}

/**
 * A payload's optional `from` / `to` as epoch ms ([from, to)); a ValidationError naming `from`
 * when the range is empty.
 */
export function resolveRange(
  bounds: { from?: string; to?: string },
  mode: SessionMode,
  calendar: TradingCalendar,
): { from?: number; to?: number } {
  const from = bounds.from !== undefined ? resolveBound(bounds.from, 'from', mode, calendar) : undefined;
  const to = bounds.to !== undefined ? resolveBound(bounds.to, 'to', mode, calendar) : undefined;
  if (from !== undefined && to !== undefined && from >= to) {
    throw new ValidationError([{ path: 'from', message: `from (${bounds.from}) must be before to (${bounds.to})` }]);
  }
  return { from, to };
}
