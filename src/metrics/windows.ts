import { z } from 'zod';

/**
 * The windows performance figures are read over, each cut into slots aligned on the epoch.
 * A window's figures are the merge of its slots, so "the last 5 minutes" is exact to within
 * one slot (10 s) and "the last 24 hours" to within 15 minutes.
 */
export const WINDOWS = {
  '5m': { slotMs: 10_000, slots: 30 },
  '1h': { slotMs: 60_000, slots: 60 },
  '24h': { slotMs: 15 * 60_000, slots: 96 },
} as const;

export type WindowName = keyof typeof WINDOWS;

export const WINDOW_NAMES = Object.keys(WINDOWS) as WindowName[];

/** `?window=5m|1h|24h`. */
export const windowSchema = z.enum(WINDOW_NAMES as [WindowName, ...WindowName[]]);

/** Length of a window in milliseconds. */
export function windowMs(window: WindowName): number {
  return WINDOWS[window].slotMs * WINDOWS[window].slots;
}

/** Start (epoch ms) of the window's slot that holds the instant `at`. */
export function slotStart(window: WindowName, at: number): number {
  const { slotMs } = WINDOWS[window];
  return Math.floor(at / slotMs) * slotMs;
}

/** Starts of the slots making up the window that ends at `now`, oldest first; the last one is still open. */
export function windowSlots(window: WindowName, now: number): number[] {
  const { slotMs, slots } = WINDOWS[window];
  const current = slotStart(window, now);
  return Array.from({ length: slots }, (_, i) => current - (slots - 1 - i) * slotMs);
}

/** A value that slots hold: a sketch of durations or a tally of events. */
export interface Mergeable {
  /** Adds a value stored by `serialize` to this one. */
  mergeSerialized(text: string): unknown;
  serialize(): string;
}

/** One series' value in one slot of one window. */
export interface SlotEntry<T> {
  window: WindowName;
  slot: number;
  series: string;
  value: T;
}

/**
 * What one process recorded, slot by slot, for every window. A writer stores each changed
 * slot whole (overwriting what it stored for that slot before), so a process that stops or
 * dies leaves behind exactly what it had recorded until its last flush.
 */
export class SlotRecorder<T extends Mergeable> {
  /** Each series' open slot per window, in the order of WINDOW_NAMES. */
  private readonly open = new Map<string, Array<SlotEntry<T>>>();
  private changed = new Set<SlotEntry<T>>();

  constructor(private readonly create: () => T) {}

  /** Applies `update` to the series' current slot in every window. */
  add(series: string, at: number, update: (value: T) => void): void {
    let cells = this.open.get(series);
    if (!cells) {
      cells = [];
      this.open.set(series, cells);
    }
    // Called for every request and job: no key is built and a slot already marked changed stays marked.
    for (let i = 0; i < WINDOW_NAMES.length; i++) {
      const window = WINDOW_NAMES[i];
      const slot = slotStart(window, at);
      let cell = cells[i];
      // A sample that arrives late for an already replaced slot joins the current one.
      if (!cell || cell.slot < slot) {
        cell = { window, slot, series, value: this.create() };
        cells[i] = cell;
      }
      update(cell.value);
      this.changed.add(cell);
    }
  }

  /** Every slot changed since the last call, each with everything recorded in it so far. */
  takeChanged(): SlotEntry<T>[] {
    const entries = [...this.changed];
    this.changed = new Set();
    return entries;
  }
}

/** Merges stored slot values series by series. */
export function mergeStored<T extends Mergeable>(
  entries: Iterable<{ series: string; text: string }>,
  create: () => T,
): Map<string, T> {
  const merged = new Map<string, T>();
  for (const { series, text } of entries) {
    let total = merged.get(series);
    if (!total) {
      total = create();
      merged.set(series, total);
    }
    total.mergeSerialized(text);
  }
  return merged;
}

/** A count of events (requests, errors, cache hits …) that merges by adding. */
export class Tally implements Mergeable {
  count = 0;

  add(count = 1): this {
    this.count += count;
    return this;
  }

  mergeSerialized(text: string): this {
    const count = Number(text);
    if (!Number.isFinite(count) || count < 0) throw new TypeError(`not a stored tally: ${JSON.stringify(text)}`);
    this.count += count;
    return this;
  }

  serialize(): string {
    return String(this.count);
  }
}
