/**
 * "Did you mean": the value a caller most likely meant when a name, symbol or timeframe is not
 * one tickforge knows.
 */

/** Levenshtein distance: the fewest single-character insertions, deletions and substitutions from a to b. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

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
