import path from 'node:path';
import type { Command } from 'commander';
import { backupSettings, restoreBackup, writeBackup } from '../backup/backup.js';
import { userTables } from '../backup/fingerprint.js';
import { loadConfigOrExit } from '../shared/config.js';
import { ensureDatabase } from '../shared/db.js';
import { answer } from './connect.js';
import { OperatorError } from './operator.js';

const json = (command: Command) => Boolean(command.optsWithGlobals<{ json?: boolean }>().json);

/** The database a URL names, for messages (never its password). */
const databaseOf = (url: string) => decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));

/** `tickforge backup` (a snapshot now, as the scheduled job writes it) and `tickforge restore FILE`. */
export function addBackupCommands(program: Command): void {
  program
    .command('backup')
    .description(
      'write a pg_dump snapshot of the tickforge schemas to TICKFORGE_BACKUP_DIR now (the scheduled backup job does it daily)',
    )
    .action(async (_options: unknown, command: Command) => {
      const result = await writeBackup(backupSettings(loadConfigOrExit()));
      answer(json(command), result, () => [
        `backup written: ${result.file} (${result.bytes} bytes in ${result.seconds.toFixed(2)} s)`,
        ...(result.deleted.length > 0 ? [`removed by retention: ${result.deleted.join(', ')}`] : []),
      ]);
    });

  program
    .command('restore')
    .description('restore a backup into the empty database DATABASE_URL names (created when missing)')
    .argument('<file>', 'a tickforge-*.dump file written by the backup job or command')
    .action(async (file: string, _options: unknown, command: Command) => {
      const config = loadConfigOrExit();
      const database = databaseOf(config.databaseUrl);
      await ensureDatabase(config.databaseUrl);
      const tables = await userTables(config.databaseUrl);
      if (tables.length > 0) {
        throw new OperatorError(
          `database ${database} already holds ${tables.length} table(s) (${tables.slice(0, 3).join(', ')}${tables.length > 3 ? ', …' : ''}): a restore goes into an empty database; point DATABASE_URL at a new one`,
        );
      }
      const { seconds } = await restoreBackup(config.databaseUrl, path.resolve(file));
      const restored = await userTables(config.databaseUrl);
      answer(json(command), { file: path.resolve(file), database, tables: restored.length, seconds }, () => [
        `restored ${path.resolve(file)} into ${database}: ${restored.length} tables in ${seconds.toFixed(2)} s`,
      ]);
    });
}
