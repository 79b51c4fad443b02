import { readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { UnrecoverableError } from 'bullmq';
import { z } from 'zod';
import type { JobContext } from './define.js';

/** Largest file or decompressed payload an import reads. */
export const MAX_IMPORT_BYTES = 512 * 1024 * 1024;
/** Largest inline CSV accepted in a payload (larger data goes through `file`). */
export const MAX_INLINE_CSV = 8 * 1024 * 1024;

/** The fields every CSV import payload has: where the CSV comes from and what bad rows do. */
const importSourceShape = {
  file: z.string().min(1).max(4096).optional().describe('path of a CSV (or .csv.gz) file readable by the worker'),
  csv: z.string().min(1).max(MAX_INLINE_CSV).optional().describe('the CSV text itself'),
  onInvalid: z
    .enum(['skip', 'fail'])
    .default('skip')
    .describe('skip: store the valid rows and list the rejected ones; fail: store nothing if any row is bad'),
};

/** A strict import payload schema: the job's own fields plus exactly one of file or csv, and onInvalid. */
export function importPayloadSchema<Shape extends z.ZodRawShape>(shape: Shape) {
  return z
    .object({ ...shape, ...importSourceShape })
    .strict()
    .refine(
      (payload) => {
        const { file, csv } = payload as { file?: string; csv?: string };
        return (file === undefined) !== (csv === undefined);
      },
      {
        message: 'give exactly one of file or csv',
        path: ['file'],
      },
    );
}

/** Reads an import file, refusing anything outside the allowed roots. */
export async function readImportFile(file: string, roots: string[]): Promise<Uint8Array> {
  let resolved: string;
  try {
    resolved = await realpath(path.resolve(file));
  } catch {
    throw new UnrecoverableError(`file ${file} does not exist or is not readable`);
  }
  const allowed = await Promise.all(roots.map((root) => realpath(root).catch(() => undefined)));
  if (!allowed.some((root) => root !== undefined && (resolved === root || resolved.startsWith(root + path.sep)))) {
    throw new UnrecoverableError(`file ${file} is outside the import directories (${roots.join(', ')})`);
  }
  const info = await stat(resolved);
  if (!info.isFile()) throw new UnrecoverableError(`file ${file} is not a regular file`);
  if (info.size > MAX_IMPORT_BYTES) {
    throw new UnrecoverableError(`file ${file} is ${info.size} bytes; the limit is ${MAX_IMPORT_BYTES}`);
  }
  const bytes = await readFile(resolved);
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  try {
    return await promisify(gunzip)(bytes, { maxOutputLength: MAX_IMPORT_BYTES });
  } catch (error) {
    throw new UnrecoverableError(`file ${file} is not readable gzip: ${(error as Error).message}`);
  }
}

/** A copy of the bytes that owns its whole ArrayBuffer, so it can be transferred. */
export function ownedBytes(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

/** How a parsed import went: rows read, and the rejected ones (listed up to a limit, all counted). */
export interface ParsedRows {
  rowsRead: number;
  rejected: Array<{ line: number; reason: string }>;
  rejectedCount: number;
}

/**
 * Fails the import for good, naming the first bad lines, when no row is usable or when any
 * row is bad and the payload said `onInvalid: fail`.
 */
export function refuseUnusableImport(parsed: ParsedRows, usable: number, onInvalid: 'skip' | 'fail'): void {
  const firstRejected = parsed.rejected
    .slice(0, 5)
    .map((r) => `line ${r.line}: ${r.reason}`)
    .join('; ');
  if (usable === 0) {
    throw new UnrecoverableError(
      parsed.rowsRead === 0
        ? 'cannot import: the file has a header but no rows'
        : `cannot import: all ${parsed.rejectedCount} rows are invalid (${firstRejected})`,
    );
  }
  if (onInvalid === 'fail' && parsed.rejectedCount > 0) {
    throw new UnrecoverableError(`cannot import: ${parsed.rejectedCount} invalid rows and onInvalid is fail (${firstRejected})`);
  }
}

/**
 * The bytes of an import's source — the file (only under the import roots; gzip is
 * unpacked) or the inline CSV — in a buffer of their own, ready to transfer to the pool.
 */
export async function readImportSource(
  ctx: JobContext,
  source: { file?: string; csv?: string },
  percent: number,
): Promise<Uint8Array> {
  const bytes = source.csv !== undefined ? Buffer.from(source.csv, 'utf8') : await readImportFile(source.file!, ctx.importRoots);
  await ctx.progress(percent, `read ${bytes.byteLength} bytes from ${source.file ?? 'the payload'}`);
  return ownedBytes(bytes);
}
