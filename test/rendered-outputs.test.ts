// envoy/ and manifests/ at the top level hold what `gen build examples/gateway.yaml` writes, for
// users to read and deploy. This fails when they are stale: run `npm run golden:update`.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFile, expectMatchesGolden, repoRoot } from './support/compile-file.js';

/** Output folder of `gen build` → folder in the repository that holds the example's copy. */
const rendered: Record<string, string> = {
  envoy: 'envoy',
  ratelimit: 'manifests/ratelimit',
  'ext-authz': 'manifests/ext-authz',
};

describe('rendered example outputs', () => {
  const files = compileFile('examples/gateway.yaml').files;
  for (const [outDir, repoDir] of Object.entries(rendered)) {
    it(`${repoDir}/ is what gen build writes to ${outDir}/`, () => {
      const part = new Map(
        [...files].filter(([f]) => f.startsWith(`${outDir}/`)).map(([f, c]) => [f.slice(outDir.length + 1), c]),
      );
      expect(part.size).toBeGreaterThan(0);
      expect(expectMatchesGolden(part, path.join(repoRoot, repoDir))).toEqual({ missing: [], stale: [], extra: [] });
    });
  }
  it('every output is rendered somewhere', () => {
    expect([...files.keys()].filter((f) => !Object.keys(rendered).includes(f.split('/')[0]))).toEqual([]);
  });
  it('the quick-start example builds', () => {
    expect(compileFile('examples/minimal.yaml').files.size).toBe(files.size);
  });
});
