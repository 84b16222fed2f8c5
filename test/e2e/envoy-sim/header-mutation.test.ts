import { describe, expect, it } from 'vitest';
import { HeaderMutationSchema } from '../../../common/envoy-api/gen/envoy/config/common/mutation_rules/v3/mutation_rules_pb.js';
import { HeaderValueOptionSchema } from '../../../common/envoy-api/gen/envoy/config/core/v3/base_pb.js';
import { compileFormat } from './formatter.js';
import { HeaderMap } from './header-map.js';
import { compileHeaderValueOption, compileMutationRules } from './header-mutation.js';
import { fragment } from './proto-fragment.js';

const req = () =>
  HeaderMap.fromEntries([
    [':path', '/v1/x'],
    ['x-aigw-credential-openai', 'sk-1'],
    ['x-multi', 'a'],
    ['x-multi', 'b'],
  ]);
const ctx = (h: HeaderMap) => ({ requestHeaders: h, remoteAddress: '192.0.2.1' });

describe('%REQ()% substitution', () => {
  it('reads the first value, case-insensitively, with fallback and truncation; absent is ""', () => {
    const h = req();
    expect(compileFormat('%REQ(X-AIGW-CREDENTIAL-OPENAI)%')(ctx(h))).toBe('sk-1');
    expect(compileFormat('Bearer %REQ(x-multi)%')(ctx(h))).toBe('Bearer a');
    expect(compileFormat('%REQ(x-none?:path)%')(ctx(h))).toBe('/v1/x');
    expect(compileFormat('%REQ(:path):3%')(ctx(h))).toBe('/v1');
    expect(compileFormat('%REQ(x-none)%')(ctx(h))).toBe('');
    expect(compileFormat('100%% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%')(ctx(h))).toBe('100% 192.0.2.1');
  });
  it('refuses commands it does not simulate', () => {
    expect(() => compileFormat('%START_TIME%')).toThrow(/not simulated/);
  });
});

describe('header mutations (mutation_rules.HeaderMutation, HeaderValueOption)', () => {
  const rules = (json: unknown[]) =>
    compileMutationRules(
      json.map((j) => fragment(HeaderMutationSchema, j)),
      'test',
    );

  it('copies the credential then removes it, in order (the gateway upstream filter)', () => {
    const h = req();
    rules([
      {
        append: {
          header: { key: 'authorization', value: '%REQ(x-aigw-credential-openai)%' },
          append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
        },
      },
      { remove: 'x-aigw-credential-openai' },
    ])(h, ctx(h));
    expect(h.get('authorization')).toBe('sk-1');
    expect(h.has('x-aigw-credential-openai')).toBe(false);
  });

  it('does not write a value that formats to "" unless keep_empty_value', () => {
    const h = new HeaderMap();
    rules([
      {
        append: {
          header: { key: 'authorization', value: '%REQ(x-none)%' },
          append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
        },
      },
    ])(h, ctx(h));
    expect(h.has('authorization')).toBe(false);
    rules([{ append: { header: { key: 'e', value: '%REQ(x-none)%' }, keep_empty_value: true } }])(h, ctx(h));
    expect(h.getAll('e')).toEqual(['']);
  });

  it('follows append_action and the deprecated append', () => {
    const opt = (json: unknown) => compileHeaderValueOption(fragment(HeaderValueOptionSchema, json), 'test');
    const run = (json: unknown) => {
      const h = HeaderMap.fromEntries([['x', '1']]);
      opt(json)(h, ctx(h));
      return h.getAll('x');
    };
    expect(run({ header: { key: 'x', value: '2' } })).toEqual(['1', '2']);
    expect(run({ header: { key: 'x', value: '2' }, append_action: 'ADD_IF_ABSENT' })).toEqual(['1']);
    expect(run({ header: { key: 'x', value: '2' }, append_action: 'OVERWRITE_IF_EXISTS' })).toEqual(['2']);
    expect(run({ header: { key: 'x', value: '2' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' })).toEqual(['2']);
    expect(run({ header: { key: 'x', value: '2' }, append: false })).toEqual(['2']);
    expect(run({ header: { key: 'x', value: '2' }, append: true })).toEqual(['1', '2']);
    const h = new HeaderMap();
    opt({ header: { key: 'y', value: 'v' }, append_action: 'OVERWRITE_IF_EXISTS' })(h, ctx(h));
    expect(h.has('y')).toBe(false);
  });
});
