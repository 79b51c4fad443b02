import { z } from 'zod';
import type { BackupResult } from '../backup/backup.js';
import { defineContract } from '../queues/contract.js';

/** backup: a pg_dump snapshot of tickforge's schemas into TICKFORGE_BACKUP_DIR, keeping the newest TICKFORGE_BACKUP_KEEP. */
export const backupContract = defineContract<BackupResult>()({
  name: 'backup',
  queue: 'system',
  description:
    'Write a consistent pg_dump (custom format) of the production and sandbox schemas to TICKFORGE_BACKUP_DIR and keep the newest TICKFORGE_BACKUP_KEEP',
  schema: z.object({}).strict(),
  defaults: {
    attempts: 3,
    backoff: { type: 'exponential', delay: 30_000 },
    removeOnComplete: { age: 30 * 24 * 3600, count: 100 },
    removeOnFail: { age: 30 * 24 * 3600, count: 100 },
  },
});
