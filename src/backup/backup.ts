import { execFile } from 'node:child_process';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Config } from '../shared/config.js';

const run = promisify(execFile);

/** Where backups go and how many are kept. */
export interface BackupSettings {
  databaseUrl: string;
  /** The schemas holding tickforge's tables (the production schema, and the sandbox where it exists). */
  schemas: string[];
  directory: string;
  /** How many of the newest backups to keep; older ones are deleted after a backup succeeds. */
  keep: number;
}

/** The backups the settings ask for: the production and sandbox schemas, to TICKFORGE_BACKUP_DIR, keeping TICKFORGE_BACKUP_KEEP. */
export function backupSettings(
  config: Pick<Config, 'databaseUrl' | 'dbSchema' | 'sandboxSchema' | 'backupDir' | 'backupKeep'>,
): BackupSettings {
  return {
    databaseUrl: config.databaseUrl,
    schemas: [config.dbSchema, config.sandboxSchema],
    directory: path.resolve(config.backupDir),
    keep: config.backupKeep,
  };
}

export interface BackupResult {
  file: string;
  bytes: number;
  seconds: number;
  /** Older backups removed by retention. */
  deleted: string[];
}

/** Raised when a backup or restore cannot be done as asked; the message says why and what to do. */
export class BackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupError';
  }
}

const BACKUP_NAME = /^tickforge-\d{8}T\d{6}Z\.dump$/;

/** `tickforge-20250303T213000Z.dump`: names sort by time. */
export function backupName(at: Date): string {
  return `tickforge-${at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}.dump`;
}

/** The backups of a directory's listing beyond the newest `keep`, oldest first. */
export function backupsBeyondRetention(files: string[], keep: number): string[] {
  const backups = files.filter((file) => BACKUP_NAME.test(file)).sort();
  return backups.slice(0, Math.max(0, backups.length - keep));
}

/** Runs a PostgreSQL client tool; a missing tool or a failure becomes a BackupError with its own words. */
async function pgTool(tool: 'pg_dump' | 'pg_restore', args: string[], signal?: AbortSignal): Promise<void> {
  try {
    await run(tool, args, { maxBuffer: 16 * 1024 * 1024, signal });
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: string };
    if (signal?.aborted) throw signal.reason ?? error;
    if (failure.code === 'ENOENT') {
      throw new BackupError(
        `${tool} is not installed: install the PostgreSQL client tools of the server's major version (Debian: postgresql-client)`,
      );
    }
    throw new BackupError(`${tool} failed: ${(failure.stderr ?? failure.message).trim()}`);
  }
}

/**
 * Writes a consistent snapshot of tickforge's schemas (pg_dump's custom format: one
 * transaction, so every table is as of the same instant) and applies retention. The dump is
 * written under a temporary name and renamed when complete: a backup file that exists is whole.
 */
export async function writeBackup(settings: BackupSettings, now = new Date(), signal?: AbortSignal): Promise<BackupResult> {
  const started = performance.now();
  await mkdir(settings.directory, { recursive: true });
  const file = path.join(settings.directory, backupName(now));
  const partial = `${file}.partial`;
  try {
    const schemas = settings.schemas.map((schema) => `--schema=${schema}`);
    await pgTool(
      'pg_dump',
      ['--format=custom', '--no-password', `--file=${partial}`, ...schemas, `--dbname=${settings.databaseUrl}`],
      signal,
    );
    await rename(partial, file);
  } finally {
    await rm(partial, { force: true });
  }
  const deleted = backupsBeyondRetention(await readdir(settings.directory), settings.keep);
  await Promise.all(deleted.map((name) => rm(path.join(settings.directory, name), { force: true })));
  return { file, bytes: (await stat(file)).size, seconds: (performance.now() - started) / 1000, deleted };
}

/**
 * Restores a backup into an empty database: everything or nothing (one transaction), and
 * never over existing tables (the caller checks the database is empty first).
 */
export async function restoreBackup(databaseUrl: string, file: string): Promise<{ seconds: number }> {
  const started = performance.now();
  await stat(file).catch(() => {
    throw new BackupError(`no backup at ${file}`);
  });
  // --clean --if-exists only matters for the schema `public`, which every new database already
  // has: without them the restore stops at CREATE SCHEMA public.
  const options = ['--no-password', '--no-owner', '--clean', '--if-exists', '--exit-on-error', '--single-transaction'];
  await pgTool('pg_restore', [...options, `--dbname=${databaseUrl}`, file]);
  return { seconds: (performance.now() - started) / 1000 };
}
