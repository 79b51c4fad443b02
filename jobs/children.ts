import { DependencyFailedError } from '../src/shared/errors.js';
import type { ChildJobs } from './context.js';

/**
 * Fails the running job for good, with their reasons, if any of the children `ids` failed:
 * they have used their own retries, and retrying the parent would only wait on them again.
 */
export async function throwIfChildrenFailed(children: ChildJobs, ids: readonly string[]): Promise<void> {
  const failures = await children.failures();
  const failed = ids.filter((id) => failures.has(id));
  if (failed.length > 0) throw new DependencyFailedError(failed.map((id) => `${id} failed: ${failures.get(id)}`).join('; '));
}
