// The fields of one request header block that a gRPC server reads (:method, :path, :scheme,
// :authority, content-type), taken from the HPACK decoder's callback, and whether the block is
// malformed (RFC 9113 §8.2, §8.3): an unknown, repeated or late pseudo-header; a pseudo-header
// in trailers; a field name that is not lower-case token characters; a value with NUL, CR or LF
// or with leading or trailing white space; a connection-specific field; `te` other than
// "trailers". One instance per connection, reset before each block.

const FIELD_NAME = /^[a-z0-9!#$%&'*+\-.^_`|~]+$/;
const BAD_FIELD_VALUE = /[\0\r\n]|^[\t ]|[\t ]$/;
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);
/** What a field costs in a header list (RFC 9113 §6.5.2): its octets plus 32. */
const FIELD_OVERHEAD = 32;

export class RequestHead {
  constructor(
    /** Largest decoded header list: beyond it fields are counted, not read (an HPACK reference bomb costs no more). */
    private readonly maxListSize: number,
  ) {}

  method: string | undefined;
  path: string | undefined;
  scheme: string | undefined;
  authority: string | undefined;
  contentType: string | undefined;
  /** A pseudo-header was present (in trailers too): a block that starts a request. */
  pseudoSeen = false;
  malformed = false;
  /** The decoded header list's size, as SETTINGS_MAX_HEADER_LIST_SIZE counts it. */
  listSize = 0;
  private regularSeen = false;
  private trailers = false;

  /** Before a block: `trailers` for one that follows a stream's request headers. */
  reset(trailers: boolean): void {
    this.method = this.path = this.scheme = this.authority = this.contentType = undefined;
    this.pseudoSeen = this.malformed = this.regularSeen = false;
    this.trailers = trailers;
    this.listSize = 0;
  }

  /** A complete request head: the pseudo-headers a request needs, nothing malformed, within maxListSize. */
  isValidRequest(): boolean {
    return (
      !this.malformed &&
      this.listSize <= this.maxListSize &&
      this.method !== undefined &&
      !!this.path &&
      this.scheme !== undefined
    );
  }

  /** The HPACK decoder's callback (never throws: the whole block must be decoded). */
  readonly onField = (name: string, value: string): void => {
    this.listSize += name.length + value.length + FIELD_OVERHEAD;
    const pseudo = name.charCodeAt(0) === 0x3a; /* : */
    if (pseudo) this.pseudoSeen = true;
    if (this.listSize > this.maxListSize || this.malformed) return; // refused anyway: not read further
    if (BAD_FIELD_VALUE.test(value)) this.malformed = true;
    if (pseudo) {
      if (this.regularSeen || this.trailers) {
        this.malformed = true;
        return;
      }
      switch (name) {
        case ':method':
          if (this.method !== undefined) this.malformed = true;
          this.method = value;
          return;
        case ':path':
          if (this.path !== undefined) this.malformed = true;
          this.path = value;
          return;
        case ':scheme':
          if (this.scheme !== undefined) this.malformed = true;
          this.scheme = value;
          return;
        case ':authority':
          if (this.authority !== undefined) this.malformed = true;
          this.authority = value;
          return;
        default:
          this.malformed = true;
          return;
      }
    }
    this.regularSeen = true;
    if (name === 'content-type') this.contentType = value;
    else if (name === 'te') {
      if (value !== 'trailers') this.malformed = true;
    } else if (CONNECTION_SPECIFIC.has(name) || !FIELD_NAME.test(name)) this.malformed = true;
  };
}
