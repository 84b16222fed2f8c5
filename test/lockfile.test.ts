// `npm ci` on a fresh clone needs every optional platform package named in package-lock.json,
// also those the registry mirror here does not serve (npm install leaves them out): see
// scripts/complete-lockfile.mjs (npm run lock:complete after changing dependencies).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './support/compile-file.js';

describe('package-lock.json', () => {
  it('lists every optional dependency, so npm ci accepts it', () => {
    const lock = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8'));
    const missing: string[] = [];
    for (const [where, pkg] of Object.entries(
      lock.packages as Record<string, { optionalDependencies?: Record<string, string> }>,
    )) {
      for (const name of Object.keys(pkg.optionalDependencies ?? {})) {
        if (!lock.packages[`${where ? `${where}/` : ''}node_modules/${name}`] && !lock.packages[`node_modules/${name}`])
          missing.push(name);
      }
    }
    expect(missing).toEqual([]);
  });
});
