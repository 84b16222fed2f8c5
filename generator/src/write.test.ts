import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeOutputsAtomically } from './write.js';

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
