// The Kong validators the build compiles ahead of time (dist/, what gen runs) and the ones
// compiled at run time (what these sources use) give the same errors.
import type { ValidateFunction } from 'ajv';
import { describe, expect, it } from 'vitest';
import { compileKongValidators, kongSchemasByName, kongSchemasDigest } from './compiled.js';

const built = new URL('../../../../dist/generator/src/validate/kong-schemas/validators.js', import.meta.url);

/** Values that break each schema in several ways, and some that may pass. */
const samples: unknown[] = [
  {},
  null,
  'x',
  [],
  { apiVersion: 'configuration.konghq.com/v1', kind: 'KongPlugin', metadata: { name: 'Bad Name' }, plugin: 7 },
  {
    apiVersion: 'configuration.konghq.com/v1',
    kind: 'KongConsumer',
    metadata: { name: 'c', namespace: 'n' },
    username: 'u',
    extra: 1,
  },
  { _format_version: '3.0', services: [{ name: 's', url: 7, routes: [{ name: 'r', paths: 'x' }] }], consumers: 'no' },
  { _format_version: '3.0', services: [], plugins: [{ name: 'rate-limiting', config: { limit_by: 'nope' } }] },
  { limit_by: 'nope', policy: 'redis', redis: { port: 70000 } },
  { limit_by: 'ip', policy: 'local', minute: 10 },
  { header_name: 'bad header', hide_credentials: 'yes' },
  { key_names: ['x-api-key'], hide_credentials: true, extra: {} },
  { model: { provider: 'openai', name: 7 }, auth: { header_value: 'plain-secret' }, route_type: 'llm/v1/chat' },
  { remove: { headers: ['x-aigw-client', 7] }, add: { headers: 'x' } },
];

const errorsOf = (v: ValidateFunction, value: unknown) => (v(value) ? [] : (v.errors ?? []));

describe('Kong validators compiled at build time', () => {
  it('are in dist/ after npm run build, one per schema, with the same errors as the schemas compiled here', async () => {
    const { schemasDigest, ...prebuilt } = (await import(built.href)) as Record<string, ValidateFunction> & {
      schemasDigest: string;
    };
    const runtime = await compileKongValidators();
    const byName = kongSchemasByName();
    expect(schemasDigest).toBe(kongSchemasDigest()); // built from these sources (else gen compiles them itself)
    expect(Object.keys(prebuilt).sort()).toEqual([...byName.keys()].sort());
    let failing = 0;
    for (const [name, schema] of byName) {
      for (const value of samples) {
        const a = errorsOf(prebuilt[name], value);
        const b = errorsOf(runtime.get(schema)!, value);
        expect(a, name).toEqual(b); // keyword, paths, params, message, schema, parentSchema, data
        if (b.length) failing++;
      }
    }
    expect(failing).toBeGreaterThan(byName.size * 3);
  });
});
