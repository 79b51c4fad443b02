import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * Loads `.env` from the working directory into process.env when the file exists (see
 * .env.example). Variables already set in the environment win over the file, so a deployment
 * can override any line. Returns the file read, if any.
 */
export function loadEnvFile(directory = process.cwd()): string | undefined {
  const file = path.join(directory, '.env');
  if (!existsSync(file)) return undefined;
  process.loadEnvFile(file);
  return file;
}
