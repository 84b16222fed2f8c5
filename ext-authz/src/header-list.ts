// The `headers` map of a CheckRequest as read off the wire, when its keys are lower case (Envoy's
// always are): entries in the order they came, looked up by a scan from the end (the last entry
// of a key wins, as in a protobuf map). A Map of one-value arrays cost ~1.5 KB per request to
// build (its table grows three times on the way to a dozen headers, and an array per value); and
// a decision looks up a handful of names, so an ASCII value stays octets of the request until it
// is asked for (most never are: user-agent, content-type, x-forwarded-proto...).
import { asciiText } from '../../common/envoy-api/proto-wire.js';
import type { RequestHeaders } from './decision.js';

export class HeaderList implements RequestHeaders {
  /** Three slots per entry: the name, then the value (a string, -1) or its octets (start, end). */
  private readonly entries: (string | number)[] = [];

  /** `bytes`: the request the ASCII values are read from (held, unchanged, while the list is). */
  constructor(private readonly bytes: Uint8Array) {}

  add(name: string, value: string): void {
    this.entries.push(name, value, -1);
  }

  /** An entry whose value is `bytes[start, end)`, ASCII octets: decoded only when asked for. */
  addAscii(name: string, start: number, end: number): void {
    this.entries.push(name, start, end);
  }

  get(name: string): readonly string[] | undefined {
    const e = this.entries;
    for (let i = e.length - 3; i >= 0; i -= 3) if (e[i] === name) return [this.valueAt(i)];
    return undefined;
  }

  /** The entries as a protobuf map holds them: each key once, at its first place, with its last value. */
  toMap(): Map<string, string[]> {
    const m = new Map<string, string[]>();
    for (let i = 0; i < this.entries.length; i += 3) m.set(this.entries[i] as string, [this.valueAt(i)]);
    return m;
  }

  [Symbol.iterator](): IterableIterator<[string, readonly string[]]> {
    return this.toMap().entries();
  }

  private valueAt(i: number): string {
    const v = this.entries[i + 1];
    return typeof v === 'string' ? v : asciiText(this.bytes, v, this.entries[i + 2] as number);
  }
}
