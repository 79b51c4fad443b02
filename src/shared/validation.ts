import type { z } from 'zod';
import { ValidationError, type ValidationIssue } from './errors.js';

export function toIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.slice(0, 50).map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
}

/** Parses with the schema or throws a ValidationError naming every bad field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what = 'payload'): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(toIssues(result.error), what);
  return result.data;
}
