import { open, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { WrittenSeries } from '../src/bars/announce.js';
import type { CsvFailure, RejectedRow } from '../src/shared/csv.js';
import { InputError } from '../src/shared/errors.js';
import { MAX_IMPORT_BYTES } from '../src/shared/import-source.js';
import type { Store } from '../src/store/store.js';
import type { JobContext } from './context.js';

/**
 * Opens an import file as a stream of its bytes (gzip unpacked as it streams), refusing anything
 * outside the allowed roots. A missing file and one outside the roots get the same answer, and
 * the roots are not listed, so the message tells a caller nothing about the files of the
 * worker's machine. `read` counts the file's bytes read so far (of `size`).
 */
export async function openImportFile(
  file: string,
  roots: string[],
): Promise<{ bytes: AsyncIterable<Uint8Array>; size: number; read: () => number }> {
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
  const handle = await open(resolved);
  const magic = Buffer.alloc(2);
  await handle.read(magic, 0, 2, 0).catch(async (error: unknown) => {
    await handle.close();
    throw error;
  });
  const stream = handle.createReadStream({ start: 0, highWaterMark: 1 << 20 });
  const read = () => stream.bytesRead;
  if (magic[0] !== 0x1f || magic[1] !== 0x8b) return { bytes: stream, size: info.size, read };
  return { bytes: gunzipped(stream, file), size: info.size, read };
}

/** The unpacked bytes of a gzip stream, refused once they pass MAX_IMPORT_BYTES. */
async function* gunzipped(packed: Readable, file: string): AsyncGenerator<Uint8Array> {
  const unpack = createGunzip();
  const piped = pipeline(packed, unpack).catch((error: Error) => error);
  let total = 0;
  try {
    for await (const chunk of unpack as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > MAX_IMPORT_BYTES) {
        throw new InputError(`file ${file} unpacks to more than ${MAX_IMPORT_BYTES} bytes, the limit`);
      }
      yield chunk;
    }
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(`file ${file} is not readable gzip: ${(error as Error).message}`);
  } finally {
    packed.destroy();
    unpack.destroy();
  }
  const failed = await piped;
  if (failed) throw new InputError(`file ${file} is not readable gzip: ${failed.message}`);
}

/** Reads a whole import file (see openImportFile) into memory. */
export async function readImportFile(file: string, roots: string[]): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of (await openImportFile(file, roots)).bytes) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/**
 * An import's source in chunks of about `size` bytes — the file (only under the import roots;
 * gzip is unpacked as it streams) or the inline CSV — each a buffer of its own, ready to transfer
 * to the pool, with the share of the source read so far.
 */
export async function* importChunks(
  ctx: JobContext,
  source: ImportSource,
  size: number,
): AsyncGenerator<{ bytes: Uint8Array; share: number }> {
  if (source.csv !== undefined) {
    yield { bytes: ownedBytes(Buffer.from(source.csv, 'utf8')), share: 1 };
    return;
  }
  const opened = await openImportFile(source.file!, ctx.importRoots);
  let pending: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of opened.bytes) {
    pending.push(chunk);
    length += chunk.length;
    if (length >= size) {
      yield { bytes: ownedBytes(Buffer.concat(pending, length)), share: opened.read() / Math.max(opened.size, 1) };
      pending = [];
      length = 0;
    }
  }
  if (length > 0) yield { bytes: ownedBytes(Buffer.concat(pending, length)), share: 1 };
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
