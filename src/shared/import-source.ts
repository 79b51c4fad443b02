import { z } from 'zod';

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
