import { z } from 'zod';
import { isCalendarDate } from './zone.js';

/** A YYYY-MM-DD calendar date, as payloads and query strings carry dates. */
export const calendarDateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a YYYY-MM-DD date')
  .refine(isCalendarDate, 'must be a calendar date');
