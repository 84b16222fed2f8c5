import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RateLimitConfigError } from './config-error.js';
import { loadConfig, parseConfigFile } from './load.js';

const root = path.resolve(import.meta.dirname, '../../test');
const errorsDir = path.join(root, 'config-errors');

describe('config errors, worded like envoyproxy/ratelimit', () => {
  const fixtures = fs.readdirSync(errorsDir).filter((f) => f.endsWith('.yaml'));
  it('has one fixture per error', () => expect(fixtures.length).toBeGreaterThanOrEqual(18));
  for (const f of fixtures) {
    it(f, () => {
      const text = fs.readFileSync(path.join(errorsDir, f), 'utf8');
      const expected = /^# expect: (.*)$/m.exec(text)![1];
      expect(() => parseConfigFile(f, text)).toThrow(
        new RateLimitConfigError(f.split(':')[0], expected.slice(f.length + 2)),
      );
    });
  }
});

describe('loadConfig', () => {
  it('loads a file', () => {
    const c = loadConfig(path.join(root, 'config/basic.yaml'));
    expect([...c.domains.keys()]).toEqual(['test-domain']);
    expect(c.domains.get('test-domain')!.root.wildcards.map((w) => w.id)).toEqual([
      'path_/api/*',
      'path_/api/v1/*',
      'files_/files/*',
    ]);
  });

  it('loads a directory of YAML files, one domain each, through a ConfigMap-style ..data link, and rejects a domain twice', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rls-config-'));
    try {
      fs.mkdirSync(path.join(dir, '..2026_01_01'));
      fs.writeFileSync(path.join(dir, '..2026_01_01/a.yaml'), 'domain: a\ndescriptors: []\n');
      fs.writeFileSync(path.join(dir, '..2026_01_01/b.yml'), 'domain: b\n');
      fs.symlinkSync('..2026_01_01', path.join(dir, '..data'));
      fs.symlinkSync('..data/a.yaml', path.join(dir, 'a.yaml'));
      fs.symlinkSync('..data/b.yml', path.join(dir, 'b.yml'));
      fs.writeFileSync(path.join(dir, 'README.txt'), 'not config');
      expect([...loadConfig(dir).domains.keys()]).toEqual(['a', 'b']);
      fs.writeFileSync(path.join(dir, 'c.yaml'), 'domain: a\n');
      expect(() => loadConfig(dir)).toThrow("c.yaml: duplicate domain 'a' in config file");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('accepts what upstream accepts: unit case, unlimited with requests_per_unit, a domain without descriptors', () => {
    expect(() =>
      parseConfigFile(
        'x.yaml',
        'domain: d\ndescriptors:\n  - key: k\n    rate_limit: { unit: Minute, requests_per_unit: 1 }\n',
      ),
    ).not.toThrow();
    expect(() =>
      parseConfigFile(
        'x.yaml',
        'domain: d\ndescriptors:\n  - key: k\n    rate_limit: { unlimited: true, requests_per_unit: 5 }\n',
      ),
    ).not.toThrow();
    expect(() => parseConfigFile('x.yaml', 'domain: d\n')).not.toThrow();
  });
});
