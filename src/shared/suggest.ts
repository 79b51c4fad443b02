/**
 * "Did you mean": the value a caller most likely meant when a name, symbol or timeframe is not
 * one tickforge knows.
 */

import { distance as editDistance } from 'fastest-levenshtein';

/** The candidate that differs from `value` only in case, if there is one. */
export function sameButCase(value: string, candidates: Iterable<string>): string | undefined {
  const lower = value.toLowerCase();
  for (const candidate of candidates) if (candidate !== value && candidate.toLowerCase() === lower) return candidate;
  return undefined;
}

/**
 * The candidate closest to `value`: one that differs only in case, else the nearest by edit
 * distance when it is near enough to be a slip (at most 2 edits and under a third of the
 * value's length), the first of equals winning.
 */
export function closestMatch(value: string, candidates: readonly string[]): string | undefined {
  const cased = sameButCase(value, candidates);
  if (cased !== undefined) return cased;
  const limit = Math.min(2, Math.ceil(value.length / 3) - 1);
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(value.toLowerCase(), candidate.toLowerCase());
    if (distance <= limit && (!best || distance < best.distance)) best = { candidate, distance };
  }
  return best?.candidate;
}

/** `; did you mean X?` when there is a suggestion, else nothing: the tail of an error message. */
export function didYouMean(suggestion: string | undefined): string {
  return suggestion === undefined ? '' : `; did you mean ${suggestion}?`;
}
