import type { z } from 'zod';

export interface ValidationIssue {
  path: string;
  message: string;
}

/** A payload or query that failed its schema; `issues` name each field and what is wrong. */
export class ValidationError extends Error {
  constructor(
    readonly issues: ValidationIssue[],
    what = 'payload',
  ) {
    super(`invalid ${what}: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`);
    this.name = 'ValidationError';
  }
}

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
