// Keys already over their limit, remembered until their fixed window ends: no Redis call for them.
// Only fixed windows: their verdict cannot change before the window ends (sliding windows and
// token buckets recover continuously).

export class OverLimitCache {
  private readonly until = new Map<string, number>();

  constructor(private readonly maxEntries = 100_000) {}

  /** True when `key` is known to be over the limit at `nowMs`. */
  isOver(key: string, nowMs: number): boolean {
    const t = this.until.get(key);
    if (t === undefined) return false;
    if (t > nowMs) return true;
    this.until.delete(key);
    return false;
  }

  remember(key: string, untilMs: number): void {
    if (this.until.size >= this.maxEntries) {
      // Evict the oldest insertion (Map keeps insertion order): bounded memory, no sweep needed.
      const first = this.until.keys().next();
      if (!first.done) this.until.delete(first.value);
    }
    this.until.set(key, untilMs);
  }

  get size(): number {
    return this.until.size;
  }
}
