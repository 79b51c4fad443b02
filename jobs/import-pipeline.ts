import { readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { WrittenSeries } from '../src/bars/announce.js';
import type { CsvFailure, RejectedRow } from '../src/shared/csv.js';
import { InputError } from '../src/shared/errors.js';
import { MAX_IMPORT_BYTES } from '../src/shared/import-source.js';
import type { Store } from '../src/store/store.js';
import type { JobContext } from './context.js';

/**
 * Reads an import file, refusing anything outside the allowed roots. A missing file and one
 * outside the roots get the same answer, and the roots are not listed, so the message tells a
 * caller nothing about the files of the worker's machine.
 */
export async function readImportFile(file: string, roots: string[]): Promise<Uint8Array> {
  const refused = () =>
    new InputError(`file ${file} cannot be imported: it does not exist or is not under the import directories (TICKFORGE_IMPORT_ROOTS)`);
  const resolved = await realpath(path.resolve(file)).catch(() => undefined);
  if (resolved === undefined) throw refused();
  const allowed = await Promise.all(roots.map((root) => realpath(root).catch(() => undefined)));
  if (!allowed.some((root) => root !== undefined && (resolved === root || resolved.startsWith(root + path.sep)))) {
    throw refused();
  }
  const info = await stat(resolved);
  if (!info.isFile()) throw new InputError(`file ${file} is not a regular file`);
  if (info.size > MAX_IMPORT_BYTES) {
    throw new InputError(`file ${file} is ${info.size} bytes; the limit is ${MAX_IMPORT_BYTES}`);
  }
  const bytes = await readFile(resolved);
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  try {
    return await promisify(gunzip)(bytes, { maxOutputLength: MAX_IMPORT_BYTES });
  } catch (error) {
    throw new InputError(`file ${file} is not readable gzip: ${(error as Error).message}`);
  }
}

/** A copy of the bytes that owns its whole ArrayBuffer, so it can be transferred. */
function ownedBytes(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

/** How a parsed import went: rows read, and the rejected ones (listed up to a limit, all counted). */
export interface ParsedRows {
  rowsRead: number;
  rejected: RejectedRow[];
  rejectedCount: number;
}

/** Bad lines a refusal quotes (the result of a skipping import lists more). */
const QUOTED_REJECTIONS = 20;

/**
 * Fails the import for good, naming the first bad lines, when no row is usable, or when any row
 * is bad and the policy is `fail` (store nothing if anything is wrong).
 */
export function refuseUnusableImport(parsed: ParsedRows, usable: number, onInvalid: 'skip' | 'fail'): void {
  const quoted = parsed.rejected
    .slice(0, QUOTED_REJECTIONS)
    .map((r) => `line ${r.line}: ${r.reason}`)
    .join('; ');
  const more = parsed.rejectedCount > QUOTED_REJECTIONS ? `; and ${parsed.rejectedCount - QUOTED_REJECTIONS} more` : '';
  if (usable === 0) {
    throw new InputError(
      parsed.rowsRead === 0
        ? 'cannot import: the file has a header but no rows'
        : `cannot import: all ${parsed.rejectedCount} rows are invalid (${quoted}${more})`,
    );
  }
  if (onInvalid === 'fail' && parsed.rejectedCount > 0) {
    throw new InputError(
      `cannot import: ${parsed.rejectedCount} of ${parsed.rowsRead} rows are invalid, nothing was written (${quoted}${more})`,
    );
  }
}

/** Where an import's rows come from: a file under the import roots, or CSV text in the payload. */
export interface ImportSource {
  file?: string;
  csv?: string;
}

/**
 * The bytes of an import's source — the file (only under the import roots; gzip is
 * unpacked) or the inline CSV — in a buffer of their own, ready to transfer to the pool.
 */
async function readImportSource(ctx: JobContext, source: ImportSource): Promise<Uint8Array> {
  const bytes = source.csv !== undefined ? Buffer.from(source.csv, 'utf8') : await readImportFile(source.file!, ctx.importRoots);
  await ctx.progress(5, `read ${bytes.byteLength} bytes from ${source.file ?? 'the payload'}`);
  return ownedBytes(bytes);
}

/** The steps that make one importer: how to parse, what is usable, how to store, what was written. */
export interface ImportSteps<Parsed extends ParsedRows, Stored> {
  /** Parses the source, in the kernel pool; `read` gives its bytes when the importer needs them. */
  parse(read: () => Promise<Uint8Array>): Promise<(Parsed & { ok: true }) | CsvFailure>;
  /** Rows of the parse that can be stored. */
  usable(parsed: Parsed): number;
  /** skip: store the usable rows and list the rest; fail: store nothing if any row is bad. */
  onInvalid: 'skip' | 'fail';
  /** A line for the job log once the rows are parsed. */
  parsedMessage(parsed: Parsed): string;
  /** Stores the usable rows; runs in one transaction. */
  store(tx: Store, parsed: Parsed): Promise<Stored>;
  /** A line for the job log once the rows are stored. */
  storedMessage(stored: Stored): string;
  /** The bar series the import wrote, announced after the commit. */
  written?(parsed: Parsed, stored: Stored): WrittenSeries[];
}

/**
 * One import, the same for every importer: read the source, parse it in the pool, refuse what
 * cannot be stored (nothing is written then), store in one transaction, announce what changed.
 */
export async function runImport<Parsed extends ParsedRows, Stored>(
  ctx: JobContext,
  source: ImportSource,
  steps: ImportSteps<Parsed, Stored>,
): Promise<{ parsed: Parsed; stored: Stored }> {
  const parsed = await steps.parse(() => readImportSource(ctx, source));
  if (!parsed.ok) throw new InputError(`cannot import: ${parsed.error}`);
  refuseUnusableImport(parsed, steps.usable(parsed), steps.onInvalid);
  await ctx.progress(50, steps.parsedMessage(parsed));
  ctx.signal.throwIfAborted();
  const stored = await ctx.store.transaction((tx) => steps.store(tx, parsed));
  await ctx.progress(90, steps.storedMessage(stored));
  if (steps.written) await ctx.events.barsWritten(steps.written(parsed, stored));
  await ctx.progress(100);
  return { parsed, stored };
}
