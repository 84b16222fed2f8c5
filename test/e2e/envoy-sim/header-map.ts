// An HTTP header map the way Envoy keeps one: lower-case keys, insertion order, and a repeated key
// kept as separate entries (HTTP/1 allows a header line to repeat). Pseudo-headers (:method, :path,
// :authority, :scheme) live in the same map, as they do in Envoy's RequestHeaderMap.

export class HeaderMap {
  private list: [string, string][] = [];

  static fromEntries(entries: Iterable<[string, string]>): HeaderMap {
    const m = new HeaderMap();
    for (const [k, v] of entries) m.add(k, v);
    return m;
  }

  clone(): HeaderMap {
    return HeaderMap.fromEntries(this.list);
  }

  /** Every value of `name`, in order; [] when absent. */
  getAll(name: string): string[] {
    const key = name.toLowerCase();
    return this.list.filter(([k]) => k === key).map(([, v]) => v);
  }

  /** The first value of `name` (what Envoy's `headers.get(name)[0]` reads). */
  get(name: string): string | undefined {
    const key = name.toLowerCase();
    return this.list.find(([k]) => k === key)?.[1];
  }

  /** All values joined with `separator` (Envoy's getAllOfHeaderAsString), undefined when absent. */
  getJoined(name: string, separator = ','): string | undefined {
    const all = this.getAll(name);
    return all.length ? all.join(separator) : undefined;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Adds one more entry (Envoy's addCopy). */
  add(name: string, value: string): void {
    this.list.push([name.toLowerCase(), value]);
  }

  /** Replaces every entry of `name` by a single one (Envoy's setCopy). */
  set(name: string, value: string): void {
    const key = name.toLowerCase();
    const at = this.list.findIndex(([k]) => k === key);
    if (at < 0) {
      this.list.push([key, value]);
      return;
    }
    this.list[at] = [key, value];
    this.list = this.list.filter(([k], i) => k !== key || i === at);
  }

  /** Appends `value` to the first entry with a comma, or adds it (Envoy's appendCopy). */
  append(name: string, value: string, separator = ','): void {
    const key = name.toLowerCase();
    const at = this.list.findIndex(([k]) => k === key);
    if (at < 0) this.list.push([key, value]);
    else this.list[at] = [key, this.list[at][1] === '' ? value : `${this.list[at][1]}${separator}${value}`];
  }

  remove(name: string): void {
    const key = name.toLowerCase();
    this.list = this.list.filter(([k]) => k !== key);
  }

  removeIf(predicate: (key: string) => boolean): void {
    this.list = this.list.filter(([k]) => !predicate(k));
  }

  entries(): [string, string][] {
    return this.list.map(([k, v]) => [k, v]);
  }

  keys(): string[] {
    return [...new Set(this.list.map(([k]) => k))];
  }

  get size(): number {
    return this.list.length;
  }

  /** A plain record; repeated keys are joined with `separator`. */
  toRecord(separator = ','): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of this.list) out[k] = k in out ? `${out[k]}${separator}${v}` : v;
    return out;
  }
}
