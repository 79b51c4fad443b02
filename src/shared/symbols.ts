import { z } from 'zod';

/**
 * A ticker or series name: letters, digits and . - _ ^ = / (BRK.B, ES.c.volume.ratio, ^GSPC),
 * at most 32 characters. Nothing here can smuggle SQL, a shell word or a path.
 */
export const SYMBOL_PATTERN = /^[A-Za-z0-9^][A-Za-z0-9._\-^=/]{0,31}$/;

export const symbolSchema = z.string().trim().regex(SYMBOL_PATTERN, 'must be 1-32 characters: letters, digits and . - _ ^ = /');

export function symbolProblem(symbol: string): string | undefined {
  return SYMBOL_PATTERN.test(symbol) ? undefined : `symbol ${JSON.stringify(symbol.slice(0, 40))} is not a valid symbol`;
}
