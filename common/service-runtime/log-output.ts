// Where log lines go: the stream (stdout), written with its backpressure respected and a bound on
// what waits. Node writes stdout asynchronously when it is a pipe (also on Linux) and buffers
// without limit when the reader falls behind: a container runtime slow to read ext-authz's audit
// lines (one per request) made its memory grow without end, and the buffered lines outlived
// several young-generation collections, each promoted and collected again by full ones (the
// checks' p99 went from ~1.5 to ~4 ms under the bench once its reader lagged).
//
// While the stream asks to wait (write() returned false, until 'drain'), chunks are held here, in
// order, up to maxHeldBytes; beyond that, lines are dropped and counted, and once the stream
// drains, the count is reported (onResume). A bounded, reported loss beats a process that grows
// until it is killed and takes every request down with it.

export class LogOutput {
  private readonly held: Buffer[] = [];
  private heldBytes = 0;
  private blocked = false;
  private exitHooked = false;
  /** Lines dropped since the last onResume. */
  private pendingDrops = 0;
  /** Lines dropped since the start. */
  droppedLines = 0;

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly maxHeldBytes: number,
    /** The stream drained after `dropped` lines were lost: say so (in a log line). */
    private readonly onResume: (dropped: number) => void,
  ) {}

  /** Whole lines (each ending in \n). */
  write(chunk: Buffer): void {
    if (!this.blocked) {
      this.send(chunk);
      return;
    }
    if (this.heldBytes + chunk.length > this.maxHeldBytes) {
      const lines = countLines(chunk);
      this.pendingDrops += lines;
      this.droppedLines += lines;
      return;
    }
    this.held.push(chunk);
    this.heldBytes += chunk.length;
  }

  /** At exit: everything held goes to the stream, whatever its backpressure. */
  private flushAll(): void {
    for (const chunk of this.held.splice(0)) this.writeQuietly(chunk);
    this.heldBytes = 0;
  }

  private send(chunk: Buffer): void {
    if (this.writeQuietly(chunk)) return;
    this.blocked = true;
    this.stream.once('drain', this.onDrain);
    if (!this.exitHooked) {
      // What is held when the process exits normally is still written (once per output).
      this.exitHooked = true;
      process.once('exit', () => this.flushAll());
    }
  }

  /** stream.write, never throwing (a closed stream, EPIPE...); false when the stream asks to wait. */
  private writeQuietly(chunk: Buffer): boolean {
    try {
      return this.stream.write(chunk) !== false;
    } catch {
      return true; // nothing to wait for: the line is lost with the stream
    }
  }

  private readonly onDrain = (): void => {
    this.blocked = false;
    while (!this.blocked && this.held.length > 0) {
      const chunk = this.held.shift()!;
      this.heldBytes -= chunk.length;
      this.send(chunk);
    }
    if (!this.blocked && this.pendingDrops > 0) {
      const dropped = this.pendingDrops;
      this.pendingDrops = 0;
      this.onResume(dropped);
    }
  };
}

function countLines(chunk: Buffer): number {
  let n = 0;
  for (let i = 0; i < chunk.length; i++) if (chunk[i] === 0x0a) n++;
  return n;
}
