/**
 * Burns CPU for about `ms` milliseconds and returns how many iterations it ran. Used to
 * exercise the pool (cancellation, shutdown, stall-freedom) with a task of known length.
 */
export function spin({ ms }: { ms: number }): number {
  const until = performance.now() + ms;
  let iterations = 0;
  while (performance.now() < until) iterations++;
  return iterations;
}
