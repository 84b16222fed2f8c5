// The validator the build compiles ahead of time (dist/, what gen runs) and the one compiled at
// run time (what these sources use) give the same errors.
import fs from 'node:fs';
import path from 'node:path';
import type { ValidateFunction } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { compileGatewayValidator } from './schema-check.js';

const built = new URL('../../../dist/generator/src/config/gateway-schema-validate.js', import.meta.url);

const files = [
  ...fs.readdirSync('examples').map((f) => path.join('examples', f)),
  ...fs.readdirSync('test/golden').map((d) => path.join('test/golden', d, 'gateway.yaml')),
  ...fs.readdirSync('test/errors').map((f) => path.join('test/errors', f)),
].filter((f) => f.endsWith('.yaml') && fs.existsSync(f));

function values(): unknown[] {
  const out: unknown[] = [];
  for (const f of files) {
    try {
      out.push(parse(fs.readFileSync(f, 'utf8')));
    } catch {
      // a YAML syntax fixture: nothing to validate
    }
  }
  // Wrong types, unknown fields and bad enums at several depths.
  out.push(
    { version: 2 },
    { version: 1, listeners: 'x', backends: [], routes: [{ name: 7 }] },
    { version: 1, outputs: ['kong', 'kong', 'istio'], listeners: [], backends: [], routes: [] },
    { version: 1, listeners: [{ name: 'l', port: 99999 }], backends: [{ name: 'b', url: 1 }], routes: [], extra: {} },
  );
  return out;
}

const errorsOf = (v: ValidateFunction, value: unknown) => (v(value) ? [] : (v.errors ?? []));

describe('gateway.yaml validator compiled at build time', () => {
  it('exists in dist/ after npm run build, and gives the same errors as the schema compiled here', async () => {
    expect(fs.existsSync(built), 'run npm run build (npm test does it first)').toBe(true);
    const prebuilt = ((await import(built.href)) as { default: ValidateFunction }).default;
    const runtime = await compileGatewayValidator();
    let failing = 0;
    for (const value of values()) {
      const a = errorsOf(prebuilt, value);
      const b = errorsOf(runtime, value);
      expect(a).toEqual(b); // keyword, paths, params, message, schema, parentSchema, data
      if (b.length) failing++;
    }
    expect(failing).toBeGreaterThanOrEqual(10); // the schema error fixtures and the bad values above
  });
});
