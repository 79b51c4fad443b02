import { Piscina } from 'piscina';

/**
 * Marks a task result so piscina transfers (rather than copies) the given buffers back to
 * the calling thread. The caller receives `value` itself.
 */
export function transferOut<T>(value: T, buffers: ArrayBuffer[]): T {
  return Piscina.move({
    [Piscina.transferableSymbol]: buffers,
    [Piscina.valueSymbol]: value,
  } as unknown as Parameters<typeof Piscina.move>[0]) as unknown as T;
}
