// ajv's standalone code as an ES module gen can import: ajv's ESM output still calls require()
// for its runtime helpers (equal, ucs2length), so the module gets a require of its own.
import standaloneCode from 'ajv/dist/standalone/index.js';

/** `refs`: one validator function, or export name → schema id. The ajv needs `code: { source: true, esm: true }`. */
export function esmStandaloneCode(ajv, refs) {
  const code = standaloneCode
    .default(ajv, refs)
    .replace(
      /^"use strict";/,
      `"use strict";import { createRequire } from 'node:module';const require = createRequire(import.meta.url);`,
    );
  if (!code.includes('createRequire')) throw new Error('unexpected ajv standalone output (no "use strict" to replace)');
  return code;
}
