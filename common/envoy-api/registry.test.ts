import { describe, expect, it } from 'vitest';
import { allFiles } from './gen/index.js';
import { envoyRegistry } from './registry.js';

describe('envoy type registry', () => {
  it('holds every message of the generated TypeScript (the two come from the same protos)', () => {
    const r = envoyRegistry();
    let messages = 0;
    for (const f of allFiles) {
      for (const m of f.messages) {
        expect(r.getMessage(m.typeName)?.typeName).toBe(m.typeName);
        messages++;
      }
    }
    expect(messages).toBeGreaterThan(500);
    expect(r.getExtension('validate.rules')).toBeDefined();
  });
});
