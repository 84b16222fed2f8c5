import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { compileFile } from '../../../test/support/compile-file.js';
import { crossReferences, descriptorGap, type GeneratedFiles } from './cross-refs.js';

type Json = Record<string, unknown>;

function exampleFiles(): GeneratedFiles {
  const files = compileFile('examples/gateway.yaml').files;
  const doc = (f: string) => ({ file: f, doc: parse(files.get(f)!) as Json });
  return {
    envoy: doc('envoy/envoy.yaml'),
    ratelimit: doc('ratelimit/config.yaml'),
    policy: doc('ext-authz/policy.yaml'),
  };
}

const ratelimit = {
  domain: 'd',
  descriptors: [
    {
      key: 'limit',
      value: 'a',
      descriptors: [{ key: 'tenant', value: 'hr', rate_limit: { unit: 'day', requests_per_unit: 1 } }],
    },
    {
      key: 'limit',
      value: 'b',
      descriptors: [
        { key: 'tenant', descriptors: [{ key: 'model', rate_limit: { unit: 'day', requests_per_unit: 1 } }] },
      ],
    },
  ],
};

describe('descriptorGap', () => {
  it('finds a limit for static and per-request values', () => {
    expect(descriptorGap(ratelimit, [{ key: 'limit', value: 'a' }, { key: 'tenant' }])).toBeUndefined();
    expect(
      descriptorGap(ratelimit, [{ key: 'limit', value: 'b' }, { key: 'tenant' }, { key: 'model' }]),
    ).toBeUndefined();
  });
  it('names the first entry that has no descriptor, or a path that ends without a limit', () => {
    expect(descriptorGap(ratelimit, [{ key: 'limit', value: 'c' }, { key: 'tenant' }])).toBe(
      'no descriptor limit=c in the rate-limit config',
    );
    expect(descriptorGap(ratelimit, [{ key: 'limit', value: 'a' }, { key: 'client' }])).toBe(
      'no descriptor limit=a > client in the rate-limit config',
    );
    expect(descriptorGap(ratelimit, [{ key: 'limit', value: 'b' }, { key: 'tenant' }])).toBe(
      'descriptor limit=b > tenant has no rate_limit in the rate-limit config',
    );
  });
});

describe('crossReferences', () => {
  it('finds nothing wrong in the example', () => {
    expect(crossReferences(exampleFiles())).toEqual([]);
  });

  it('reports a route whose cluster does not exist', () => {
    const files = exampleFiles();
    const clusters = (files.envoy.doc.static_resources as Json).clusters as Json[];
    clusters.splice(
      clusters.findIndex((c) => c.name === 'backend_agents'),
      1,
    );
    expect(crossReferences(files)).toContainEqual(
      expect.objectContaining({ message: 'cluster "backend_agents" is not defined' }),
    );
  });

  it('reports a policy missing from policy.yaml and a descriptor missing from the rate-limit config', () => {
    const files = exampleFiles();
    delete (files.policy.doc.policies as Json).models;
    (files.ratelimit.doc.descriptors as Json[]).splice(0, 1); // execute-per-ip
    const messages = crossReferences(files).map((p) => p.message);
    expect(messages).toContain('policy "models" is not in ext-authz/policy.yaml');
    expect(messages.filter((m) => m === 'no descriptor limit=execute-per-ip in the rate-limit config')).toHaveLength(2);
  });

  it('reports a token limit whose descriptor the rate-limit config lacks', () => {
    const files = exampleFiles();
    const descriptors = files.ratelimit.doc.descriptors as Json[];
    descriptors.splice(
      descriptors.findIndex((d) => d.value === 'tenant-tokens-per-minute'),
      1,
    );
    const problems = crossReferences(files).filter((p) => p.file === 'ext-authz/policy.yaml');
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0].message).toBe('no descriptor limit=tenant-tokens-per-minute in the rate-limit config');
  });
});
