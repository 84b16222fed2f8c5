// One fixture per user error: test/errors/NAME.yaml starts with `# expect:` lines holding the
// exact messages gen must print for it (file:line:column: field: message), in order.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileMessages, repoRoot } from './support/compile-file.js';

const dir = path.join(repoRoot, 'test/errors');
const fixtures = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

describe('user errors in gateway.yaml', () => {
  it('has fixtures', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(20);
  });
  for (const f of fixtures) {
    it(f.replace(/\.yaml$/, ''), () => {
      const text = fs.readFileSync(path.join(dir, f), 'utf8');
      const expected = [...text.matchAll(/^# expect: (.*)$/gm)].map((m) => m[1]);
      expect(expected.length).toBeGreaterThan(0);
      expect(compileMessages(`test/errors/${f}`)).toEqual(expected);
    });
  }
});
