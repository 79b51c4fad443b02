/** Listeners by key: adding one gives the function that removes it; a key left without listeners is dropped. */
export class KeyedListeners<K, L> {
  private readonly byKey = new Map<K, Set<L>>();

  add(key: K, listener: L): () => void {
    let set = this.byKey.get(key);
    if (!set) {
      set = new Set();
      this.byKey.set(key, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.byKey.delete(key);
    };
  }

  /** The listeners of a key (none when it has none). */
  of(key: K): Iterable<L> {
    return this.byKey.get(key) ?? [];
  }

  /** Every listener of every key, copied, so a listener may remove itself while they are called. */
  all(): L[] {
    return [...this.byKey.values()].flatMap((set) => [...set]);
  }

  /** How many listeners there are under all keys. */
  get size(): number {
    let count = 0;
    for (const set of this.byKey.values()) count += set.size;
    return count;
  }

  clear(): void {
    this.byKey.clear();
  }
}
