import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Knex } from 'knex';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';

export type CopySource = Uint8Array | string | Iterable<Uint8Array | string> | AsyncIterable<Uint8Array | string>;

/** The pg client a knex transaction runs on (knex hands the same one back inside a transaction). */
async function transactionClient(trx: Knex.Transaction): Promise<pg.Client> {
  // After a commit or rollback the connection runs statements on its own, committing each: a
  // late COPY must fail, not write outside the transaction.
  if (trx.isCompleted()) throw new Error('the transaction has ended: COPY refused');
  return (await (trx.client as { acquireConnection(): Promise<pg.Client> }).acquireConnection()) as pg.Client;
}

/** Streams COPY data (text format, or binary) into `table (columns)` on the transaction's connection. */
export async function copyInto(
  trx: Knex.Transaction,
  table: string,
  columns: readonly string[],
  source: CopySource,
  format: 'text' | 'binary' = 'text',
): Promise<void> {
  const client = await transactionClient(trx);
  const sink = client.query(
    copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN${format === 'binary' ? ' (FORMAT binary)' : ''}`),
  );
  const chunks = typeof source === 'string' || source instanceof Uint8Array ? [source] : source;
  await pipeline(Readable.from(chunks, { objectMode: false }), sink);
}

/**
 * Runs `COPY (query) TO STDOUT` on the transaction's connection and returns the output as one
 * byte array that owns its buffer (so it can be transferred to a pool thread).
 */
export async function copyOut(trx: Knex.Transaction, sql: string): Promise<Uint8Array> {
  const client = await transactionClient(trx);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of client.query(copyTo(sql)) as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    total += chunk.length;
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}
