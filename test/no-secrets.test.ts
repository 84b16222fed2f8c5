// Nothing gen writes may contain a secret: API keys appear only as digests, provider keys and the
// Redis password only as references.
import { describe, expect, it } from 'vitest';
import { exampleKeys } from './fixtures/example-keys.js';
import { compileFile } from './support/compile-file.js';

describe('generated files hold no secrets', () => {
  const files = compileFile('examples/gateway.yaml').files;
  it('has outputs to scan', () => expect(files.size).toBeGreaterThanOrEqual(3));
  for (const [name, content] of files) {
    it(name, () => {
      for (const key of Object.values(exampleKeys)) expect(content).not.toContain(key);
      expect(content).not.toMatch(/\bsk-[A-Za-z0-9]{8,}/);
      expect(content).not.toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----/);
    });
  }
});
