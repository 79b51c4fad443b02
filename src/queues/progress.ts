/**
 * What a running job reports as its progress (BullMQ's `job.progress`): percent done, the step
 * it is on in words, the symbol it works on where there is one, and when it should finish at
 * the rate it has kept so far. The SSE stream, the WebSocket and `GET /api/jobs/…` show these
 * fields.
 */
export interface JobProgress {
  /** 0–100. */
  progressPercent: number;
  /** The step in words, such as "SPY: 1950 base bars → 412 bars"; null when the handler named none. */
  currentStep: string | null;
  symbol: string | null;
  /** ISO-8601 UTC: start + elapsed × 100 / percent; null before the first percent. */
  estimatedCompletion: string | null;
}

/**
 * When a job that started at `startedAt` and is `percent` done at `now` should finish, going
 * on at the same rate; null while nothing measurable is done.
 */
export function estimateCompletion(startedAt: number, now: number, percent: number): string | null {
  if (percent <= 0) return null;
  if (percent >= 100) return new Date(now).toISOString();
  return new Date(startedAt + ((now - startedAt) * 100) / percent).toISOString();
}

/** The one symbol a payload names (`symbol`, or `symbols` with one entry), else null. */
export function payloadSymbol(data: unknown): string | null {
  if (typeof data !== 'object' || data === null) return null;
  const { symbol, symbols } = data as { symbol?: unknown; symbols?: unknown };
  if (typeof symbol === 'string') return symbol;
  if (typeof symbols === 'string') return symbols;
  if (Array.isArray(symbols) && symbols.length === 1 && typeof symbols[0] === 'string') return symbols[0];
  return null;
}

/** Every symbol a payload names (`symbol` or `symbols`); empty when it names none. */
export function payloadSymbols(data: unknown): string[] {
  if (typeof data !== 'object' || data === null) return [];
  const { symbol, symbols } = data as { symbol?: unknown; symbols?: unknown };
  if (typeof symbol === 'string') return [symbol];
  if (typeof symbols === 'string') return [symbols];
  if (Array.isArray(symbols)) return symbols.filter((entry): entry is string => typeof entry === 'string');
  return [];
}

/**
 * Reads a job's progress as stored: a JobProgress, or the bare percentage jobs stored before
 * progress carried a step (and that `updateProgress(n)` from other producers still stores).
 */
export function progressOf(stored: unknown): JobProgress {
  if (typeof stored === 'number') {
    return { progressPercent: stored, currentStep: null, symbol: null, estimatedCompletion: null };
  }
  if (typeof stored === 'object' && stored !== null && typeof (stored as JobProgress).progressPercent === 'number') {
    const progress = stored as Partial<JobProgress> & { progressPercent: number };
    return {
      progressPercent: progress.progressPercent,
      currentStep: typeof progress.currentStep === 'string' ? progress.currentStep : null,
      symbol: typeof progress.symbol === 'string' ? progress.symbol : null,
      estimatedCompletion: typeof progress.estimatedCompletion === 'string' ? progress.estimatedCompletion : null,
    };
  }
  return { progressPercent: 0, currentStep: null, symbol: null, estimatedCompletion: null };
}
