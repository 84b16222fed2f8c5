import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from './cli-main.js';

const root = path.resolve(import.meta.dirname, '../..');
let out: string[];
let err: string[];
let tmp: string;

beforeEach(() => {
  out = [];
  err = [];
  vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')));
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gen-cli-'));
});
afterEach(() => {
  vi.restoreAllMocks();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('gen', () => {
  it('build writes every output and exits 0', async () => {
    const dir = path.join(tmp, 'out');
    expect(await main(['build', path.join(root, 'examples/gateway.yaml'), '--out', dir])).toBe(0);
    expect(fs.readdirSync(dir).sort()).toEqual(['envoy', 'ext-authz', 'kong', 'manifests', 'ratelimit']);
    expect(out.join('\n')).toMatch(/9 route\(s\)/);
  });

  it('build of a bad file exits 1 with file:line:col messages, no stack trace, and writes nothing', async () => {
    const dir = path.join(tmp, 'a/b/out');
    expect(await main(['build', path.join(root, 'test/errors/unknown-backend.yaml'), '--out', dir])).toBe(1);
    expect(err[0]).toMatch(/unknown-backend\.yaml:\d+:\d+: routes\[1\]\.backend: unknown backend "lml"/);
    expect(err.join('\n')).not.toMatch(/\bat .*\.js:\d+/);
    expect(fs.readdirSync(tmp)).toEqual([]); // not even the folders above --out, nor a staging folder
  });

  it('validate names a missing file', async () => {
    expect(await main(['validate', path.join(tmp, 'nope.yaml')])).toBe(1);
    expect(err[0]).toMatch(/nope\.yaml: cannot read file: ENOENT/);
  });

  it('validate --envoy accepts a generated bootstrap and rejects an unknown field', async () => {
    const dir = path.join(tmp, 'out');
    await main(['build', path.join(root, 'examples/minimal.yaml'), '--out', dir]);
    const envoy = path.join(dir, 'envoy/envoy.yaml');
    expect(await main(['validate', '--envoy', envoy])).toBe(0);
    fs.writeFileSync(
      envoy,
      fs
        .readFileSync(envoy, 'utf8')
        .replace('stat_prefix: public', 'stat_prefix: public\n                stat_prefx: typo'),
    );
    expect(await main(['validate', '--envoy', envoy])).toBe(1);
    expect(err.join('\n')).toMatch(/unknown field "stat_prefx"/);
  });

  it('usage errors exit 2', async () => {
    expect(await main(['build'])).toBe(2);
    expect(await main(['frobnicate'])).toBe(2);
    expect(await main(['build', 'a.yaml', '--bogus'])).toBe(2);
  });
});
