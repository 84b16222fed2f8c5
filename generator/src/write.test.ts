import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StagedOutput, writeOutputsAtomically } from './write.js';

const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'gen-write-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('writeOutputsAtomically', () => {
  it('replaces the whole folder: no file of the previous build survives', () => {
    const out = path.join(tmp(), 'out');
    writeOutputsAtomically(
      out,
      new Map([
        ['a/one.yaml', '1'],
        ['b/two.yaml', '2'],
      ]),
    );
    writeOutputsAtomically(out, new Map([['a/one.yaml', 'new']]));
    expect(fs.readFileSync(path.join(out, 'a/one.yaml'), 'utf8')).toBe('new');
    expect(fs.existsSync(path.join(out, 'b'))).toBe(false);
    expect(fs.readdirSync(path.dirname(out))).toEqual(['out']);
  });

  it('leaves the previous output untouched when writing fails', () => {
    const out = path.join(tmp(), 'out');
    writeOutputsAtomically(out, new Map([['envoy/envoy.yaml', 'good']]));
    // A file and a folder of the same name cannot both be written: the write fails half-way.
    expect(() =>
      writeOutputsAtomically(
        out,
        new Map([
          ['x', 'file'],
          ['x/y.yaml', 'under a file'],
          ['envoy/envoy.yaml', 'bad'],
        ]),
      ),
    ).toThrow();
    expect(fs.readFileSync(path.join(out, 'envoy/envoy.yaml'), 'utf8')).toBe('good');
    expect(fs.readdirSync(path.dirname(out))).toEqual(['out']);
  });
});

describe('StagedOutput', () => {
  it('shows nothing of a build until commit, then exactly its files, the previous output gone', async () => {
    const out = path.join(tmp(), 'out');
    writeOutputsAtomically(out, new Map([['old/only-before.yaml', 'x']]));
    const staged = new StagedOutput(out);
    const big = `${'route: r\n'.repeat(300_000)}ünïcödé\n`; // several MB, not ASCII at the end
    staged.add('envoy/envoy.yaml', big);
    staged.add('kong/kong.yaml', '');
    expect(fs.readdirSync(out)).toEqual(['old']);
    await staged.commit();
    expect(fs.readFileSync(path.join(out, 'envoy/envoy.yaml'), 'utf8')).toBe(big);
    expect(fs.readFileSync(path.join(out, 'kong/kong.yaml'), 'utf8')).toBe('');
    expect(fs.readdirSync(out).sort()).toEqual(['envoy', 'kong']);
    expect(fs.readdirSync(path.dirname(out))).toEqual(['out']);
  });

  it('leaves the previous output untouched on abort, also after a file that cannot be written', async () => {
    const out = path.join(tmp(), 'out');
    writeOutputsAtomically(out, new Map([['envoy/envoy.yaml', 'good']]));
    const staged = new StagedOutput(out);
    staged.add('envoy/envoy.yaml', 'bad');
    staged.add('x', 'file');
    expect(() => staged.add('x/y.yaml', 'under a file')).toThrow();
    expect(() => staged.add('envoy/envoy.yaml', 'again')).toThrow('internal: envoy/envoy.yaml is written twice');
    await staged.abort();
    expect(fs.readFileSync(path.join(out, 'envoy/envoy.yaml'), 'utf8')).toBe('good');
    expect(fs.readdirSync(path.dirname(out))).toEqual(['out']);
  });

  it('rejects on commit when a write fails on the thread pool, leaving the previous output and no staging folder', async () => {
    const out = path.join(tmp(), 'out');
    writeOutputsAtomically(out, new Map([['envoy/envoy.yaml', 'good']]));
    const spy = vi.spyOn(fs, 'write').mockImplementation(((...args: unknown[]) => {
      const cb = args.at(-1) as (err: NodeJS.ErrnoException) => void;
      setImmediate(() => cb(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' })));
    }) as unknown as typeof fs.write);
    try {
      const staged = new StagedOutput(out);
      staged.add('envoy/envoy.yaml', 'bad');
      staged.add('kong/kong.yaml', 'x');
      await new Promise((r) => setTimeout(r, 20)); // the failures happen before anyone awaits them
      await expect(staged.commit()).rejects.toThrow('ENOSPC');
    } finally {
      spy.mockRestore();
    }
    expect(fs.readFileSync(path.join(out, 'envoy/envoy.yaml'), 'utf8')).toBe('good');
    expect(fs.readdirSync(path.dirname(out))).toEqual(['out']);
  });

  it('creates the output folder (and its parents) on the first build', async () => {
    const out = path.join(tmp(), 'a/b/out');
    const staged = new StagedOutput(out);
    staged.add('ratelimit/config.yaml', 'domain: x\n');
    await staged.commit();
    expect(fs.readFileSync(path.join(out, 'ratelimit/config.yaml'), 'utf8')).toBe('domain: x\n');
  });
});
