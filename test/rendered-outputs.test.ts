// envoy/, manifests/ and kong/ at the top level hold what `gen build examples/gateway.yaml` writes,
// for users to read and deploy. This fails when they are stale: run `npm run golden:update`.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { compileFile, expectMatchesGolden, repoRoot } from './support/compile-file.js';

/** Output folders of `gen build` rendered in the repository under the same name. */
const rendered = ['envoy', 'manifests', 'kong'];

describe('rendered example outputs', () => {
  const result = compileFile('examples/gateway.yaml');
  const files = result.files;
  for (const dir of rendered) {
    it(`${dir}/ is what gen build writes to ${dir}/`, () => {
      const part = new Map(
        [...files].filter(([f]) => f.startsWith(`${dir}/`)).map(([f, c]) => [f.slice(dir.length + 1), c]),
      );
      if (part.size === 0 && dir === 'kong') return; // not every build target exists yet
      expect(part.size).toBeGreaterThan(0);
      expect(expectMatchesGolden(part, path.join(repoRoot, dir))).toEqual({ missing: [], stale: [], extra: [] });
    });
  }

  it('the service configs are rendered inside the manifests’ ConfigMaps, byte for byte', () => {
    const data = [...files]
      .filter(([f]) => f.startsWith('manifests/') && f.endsWith('.yaml'))
      .flatMap(([, c]) => parseAllDocuments(c).map((d) => d.toJS()))
      .filter((o) => o?.kind === 'ConfigMap')
      .flatMap((o) => Object.values(o.data ?? {}));
    for (const f of ['envoy/envoy.yaml', 'ratelimit/config.yaml', 'ext-authz/policy.yaml'])
      expect(data).toContain(files.get(f));
  });

  it('the quick-start example builds', () => {
    expect(compileFile('examples/minimal.yaml').files.size).toBeGreaterThan(3);
  });
});
