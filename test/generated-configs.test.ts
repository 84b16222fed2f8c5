// What gen build writes for the services is what the services load: the contract between the
// generator and ext-authz / ratelimit-service, checked on every golden case and the examples.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../ext-authz/src/policy.js';
import { parseConfigFile } from '../ratelimit-service/src/config/load.js';
import { compileFile, repoRoot } from './support/compile-file.js';

const gateways = [
  'examples/gateway.yaml',
  'examples/minimal.yaml',
  ...fs
    .readdirSync(path.join(repoRoot, 'test/golden'))
    .filter((c) => fs.existsSync(path.join(repoRoot, 'test/golden', c, 'gateway.yaml')))
    .map((c) => `test/golden/${c}/gateway.yaml`),
];

describe('generated service configs load in the services', () => {
  for (const g of gateways) {
    it(g, () => {
      const files = compileFile(g).files;
      const rl = parseConfigFile('config.yaml', files.get('ratelimit/config.yaml')!);
      const policy = parsePolicy(files.get('ext-authz/policy.yaml')!, 'policy.yaml');
      expect(rl.domain).toBe(policy.domain);
      expect(Object.keys(policy.policies).length).toBeGreaterThan(0);
    });
  }
});
