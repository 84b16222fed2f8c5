import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXT_AUTHZ_NODE_FLAGS } from './node-flags.js';

describe('EXT_AUTHZ_NODE_FLAGS', () => {
  it('are on the container image ENTRYPOINT, before the script', () => {
    const dockerfile = fs.readFileSync(new URL('../Dockerfile', import.meta.url), 'utf8');
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
    expect(entrypoint).toBeDefined();
    const argv = JSON.parse(entrypoint!) as string[];
    const script = argv.indexOf('dist/ext-authz/src/main.js');
    expect(script).toBeGreaterThan(0);
    expect(argv.slice(1, script)).toEqual(expect.arrayContaining([...EXT_AUTHZ_NODE_FLAGS]));
  });
});
