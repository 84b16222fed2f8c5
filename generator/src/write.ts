// All or nothing: the outputs are written into a fresh folder beside the target, then swapped in
// with renames. A failure before the swap leaves the previous output untouched.
import fs from 'node:fs';
import path from 'node:path';

function stagingFolder(target: string): string {
  const parent = path.dirname(target);
  fs.mkdirSync(parent, { recursive: true });
  return fs.mkdtempSync(path.join(parent, `.${path.basename(target)}.new-`));
}

/** Puts the finished staging folder in the target's place (the previous output goes only once it is). */
function swapIn(staging: string, target: string): void {
  const previous = `${staging.replace('.new-', '.old-')}`;
  const hadTarget = fs.existsSync(target);
  if (hadTarget) fs.renameSync(target, previous);
  try {
    fs.renameSync(staging, target);
  } catch (e) {
    if (hadTarget) fs.renameSync(previous, target);
    throw e;
  }
  if (hadTarget) fs.rmSync(previous, { recursive: true, force: true });
}

export function writeOutputsAtomically(outDir: string, files: Map<string, string>): void {
  const target = path.resolve(outDir);
  const staging = stagingFolder(target);
  try {
    for (const [rel, content] of files) {
      const file = path.join(staging, rel);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, content);
    }
    swapIn(staging, target);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/** Writes the whole buffer to an open file on libuv's thread pool, then closes it. */
function writeAll(fd: number, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const from = (offset: number) =>
      fs.write(fd, data, offset, data.length - offset, null, (err, written) => {
        if (err) fs.close(fd, () => reject(err));
        else if (offset + written < data.length) from(offset + written);
        else fs.close(fd, (e) => (e ? reject(e) : resolve()));
      });
    from(0);
  });
}

/**
 * An output folder written while the outputs are still being computed: each file goes into the
 * staging folder as soon as it is added, its bytes written by the thread pool while the caller
 * goes on (validating, emitting the next target); commit() waits for every write and swaps the
 * folder in, abort() removes it. Same all-or-nothing rule as writeOutputsAtomically.
 */
export class StagedOutput {
  readonly #target: string;
  readonly #staging: string;
  readonly #writes: Promise<void>[] = [];
  readonly #names = new Set<string>();

  constructor(outDir: string) {
    this.#target = path.resolve(outDir);
    this.#staging = stagingFolder(this.#target);
  }

  add(rel: string, content: string): void {
    if (this.#names.has(rel)) throw new Error(`internal: ${rel} is written twice`);
    this.#names.add(rel);
    const file = path.join(this.#staging, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // Opened here, so a path that cannot be written fails at once, in the caller's stack.
    const written = writeAll(fs.openSync(file, 'w'), Buffer.from(content, 'utf8'));
    written.catch(() => {}); // reported by commit(); never an unhandled rejection meanwhile
    this.#writes.push(written);
  }

  async commit(): Promise<void> {
    try {
      await Promise.all(this.#writes);
      swapIn(this.#staging, this.#target);
    } finally {
      await this.abort();
    }
  }

  /** Removes the staging folder once no write is pending (the target is left as it was). */
  async abort(): Promise<void> {
    await Promise.allSettled(this.#writes);
    fs.rmSync(this.#staging, { recursive: true, force: true });
  }
}
