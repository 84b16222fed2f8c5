// Golden cases: test/golden/CASE/gateway.yaml → the reviewed outputs in test/golden/CASE/out/.
// Regenerate with `npm run golden:update` and review the diff.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFile, expectMatchesGolden, repoRoot } from './support/compile-file.js';

const dir = path.join(repoRoot, 'test/golden');
const cases = fs
  .readdirSync(dir)
  .filter((c) => fs.existsSync(path.join(dir, c, 'gateway.yaml')))
  .sort();

describe('golden outputs', () => {
  it('has cases', () => expect(cases.length).toBeGreaterThanOrEqual(3));
  for (const c of cases) {
    it(c, () => {
      const result = compileFile(`test/golden/${c}/gateway.yaml`);
      expect(expectMatchesGolden(result.files, path.join(dir, c, 'out'))).toEqual({
        missing: [],
        stale: [],
        extra: [],
      });
    });
  }
  it('is deterministic: the same input gives the same bytes', () => {
    const a = compileFile('examples/gateway.yaml').files;
    const b = compileFile('examples/gateway.yaml').files;
    expect([...a.entries()]).toEqual([...b.entries()]);
  });
});
