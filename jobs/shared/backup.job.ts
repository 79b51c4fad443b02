import { backupContract } from '../../src/shared/backup.contract.js';
import { defineHandler } from '../handler.js';

/** backup: writes the snapshot and applies retention; a failed pg_dump leaves no file behind and is retried. */
export const backupHandler = defineHandler(backupContract, async (ctx) => {
  await ctx.progress(0, 'pg_dump started');
  const result = await ctx.backups.write(ctx.signal);
  ctx.logger.info(
    { file: result.file, bytes: result.bytes, seconds: result.seconds, deleted: result.deleted },
    `backup written to ${result.file} (${result.bytes} bytes in ${result.seconds.toFixed(1)} s); ${result.deleted.length} older removed`,
  );
  await ctx.progress(100, `backup written: ${result.file}`);
  return result;
});
