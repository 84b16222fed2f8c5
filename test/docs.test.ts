// docs/gateway-yaml.md is generated from the JSON Schema; this fails when it is stale
// (npm run golden:update re-renders it).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderSchemaReference } from '../generator/src/docs/schema-reference.js';
import { repoRoot, updateGolden } from './support/compile-file.js';

describe('docs', () => {
  it('docs/gateway-yaml.md is the rendering of the schema', () => {
    const file = path.join(repoRoot, 'docs/gateway-yaml.md');
    const text = renderSchemaReference();
    if (updateGolden) fs.writeFileSync(file, text);
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
    expect(text).toContain('| `routes[].match.body` |');
    expect(text).toContain('| `limits[].tokens` |');
  });
});
