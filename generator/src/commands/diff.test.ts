import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { repoRoot } from '../../../test/support/compile-file.js';
import { diffCommand } from './diff.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('gen diff', () => {
  it('shows what a one-line change to gateway.yaml changes in each output, and exits 1', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gen-diff-'));
    dirs.push(dir);
    const old = path.join(repoRoot, 'examples/minimal.yaml');
    const next = path.join(dir, 'minimal.yaml'); // same name: the outputs' header names the source file
    fs.writeFileSync(next, fs.readFileSync(old, 'utf8').replace('requests: 60/minute', 'requests: 90/minute'));
    const said: string[] = [];
    expect(diffCommand([old, next, '--stat'], (s) => said.push(s))).toBe(1);
    expect(said.filter((l) => /^ratelimit|^envoy|^ext-authz/.test(l))).toEqual([
      'ratelimit/config.yaml: changed, +1 -1',
    ]);
    said.length = 0;
    diffCommand([old, next], (s) => said.push(s));
    expect(said).toContain('-          requests_per_unit: 60');
    expect(said).toContain('+          requests_per_unit: 90');
  });

  it('exits 0 when nothing changes', () => {
    const f = path.join(repoRoot, 'examples/minimal.yaml');
    const said: string[] = [];
    expect(diffCommand([f, f], (s) => said.push(s))).toBe(0);
    expect(said.at(-1)).toBe('gen diff: no output changes');
  });
});
