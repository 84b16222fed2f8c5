import { describe, expect, it } from 'vitest';
import { RateLimitSchema } from '../../../common/envoy-api/gen/envoy/config/route/v3/route_components_pb.js';
import { HeaderMap } from './header-map.js';
import { fragment } from './proto-fragment.js';
import { buildDescriptor, buildDescriptors, type DescriptorContext } from './rate-limit-descriptors.js';

const rl = (json: unknown) => fragment(RateLimitSchema, json);
const ctx = (over: Partial<DescriptorContext> = {}): DescriptorContext => ({
  headers: HeaderMap.fromEntries([
    [':method', 'POST'],
    ['x-team', 'blue'],
  ]),
  remoteAddress: '203.0.113.9',
  dynamicMetadata: { 'envoy.filters.http.ext_authz': { tenant: 'hr', client: 'bot', n: 5, nested: { k: 'v' } } },
  localServiceCluster: 'ai-gateway',
  routeCluster: 'backend_vllm',
  ...over,
});
const fromAuthz = (key: string, extra: object = {}) => ({
  metadata: {
    descriptor_key: key,
    metadata_key: { key: 'envoy.filters.http.ext_authz', path: [{ key }] },
    source: 'DYNAMIC',
    ...extra,
  },
});

describe('rate limit descriptors (Envoy router_ratelimit.cc)', () => {
  it('builds generic_key (default key "generic_key") and remote_address entries in action order', () => {
    const d = buildDescriptor(
      rl({
        actions: [{ generic_key: { descriptor_key: 'limit', descriptor_value: 'per-ip' } }, { remote_address: {} }],
      }),
      ctx(),
    );
    expect(d).toEqual([
      { key: 'limit', value: 'per-ip' },
      { key: 'remote_address', value: '203.0.113.9' },
    ]);
    expect(buildDescriptor(rl({ actions: [{ generic_key: { descriptor_value: 'x' } }] }), ctx())).toEqual([
      { key: 'generic_key', value: 'x' },
    ]);
  });

  it('reads request_headers; an absent header drops the descriptor unless skip_if_absent', () => {
    const team = (skip: boolean) =>
      rl({
        actions: [
          { generic_key: { descriptor_value: 'g' } },
          { request_headers: { header_name: 'X-Team', descriptor_key: 'team', skip_if_absent: skip } },
        ],
      });
    expect(buildDescriptor(team(false), ctx())).toEqual([
      { key: 'generic_key', value: 'g' },
      { key: 'team', value: 'blue' },
    ]);
    const none = ctx({ headers: new HeaderMap() });
    expect(buildDescriptor(team(false), none)).toBeUndefined();
    expect(buildDescriptor(team(true), none)).toEqual([{ key: 'generic_key', value: 'g' }]);
  });

  it('reads DYNAMIC metadata strings, falling back to default_value, else dropping the descriptor', () => {
    expect(buildDescriptor(rl({ actions: [fromAuthz('tenant', { default_value: 'unknown' })] }), ctx())).toEqual([
      { key: 'tenant', value: 'hr' },
    ]);
    const empty = ctx({ dynamicMetadata: {} });
    expect(buildDescriptor(rl({ actions: [fromAuthz('tenant', { default_value: 'unknown' })] }), empty)).toEqual([
      { key: 'tenant', value: 'unknown' },
    ]);
    expect(buildDescriptor(rl({ actions: [fromAuthz('tenant')] }), empty)).toBeUndefined();
    expect(buildDescriptor(rl({ actions: [fromAuthz('tenant', { skip_if_absent: true })] }), empty)).toEqual([]);
    // A non-string value counts as absent (Envoy reads string_value()).
    expect(buildDescriptor(rl({ actions: [fromAuthz('n', { default_value: 'd' })] }), ctx())).toEqual([
      { key: 'n', value: 'd' },
    ]);
    const nested = rl({
      actions: [
        {
          metadata: {
            descriptor_key: 'k',
            metadata_key: { key: 'envoy.filters.http.ext_authz', path: [{ key: 'nested' }, { key: 'k' }] },
          },
        },
      ],
    });
    expect(buildDescriptor(nested, ctx())).toEqual([{ key: 'k', value: 'v' }]);
  });

  it('supports header_value_match, source_cluster and destination_cluster', () => {
    const hv = (expect_match: boolean) =>
      rl({
        actions: [
          {
            header_value_match: {
              descriptor_value: 'posts',
              expect_match,
              headers: [{ name: ':method', string_match: { exact: 'POST' } }],
            },
          },
        ],
      });
    expect(buildDescriptor(hv(true), ctx())).toEqual([{ key: 'header_match', value: 'posts' }]);
    expect(buildDescriptor(hv(false), ctx())).toBeUndefined();
    expect(buildDescriptor(rl({ actions: [{ source_cluster: {} }, { destination_cluster: {} }] }), ctx())).toEqual([
      { key: 'source_cluster', value: 'ai-gateway' },
      { key: 'destination_cluster', value: 'backend_vllm' },
    ]);
  });

  it('keeps only the entries of the filter stage, one descriptor per rate_limits entry', () => {
    const limits = [
      rl({ actions: [{ generic_key: { descriptor_value: 'a' } }] }),
      rl({ stage: 1, actions: [{ generic_key: { descriptor_value: 'b' } }] }),
      rl({ actions: [fromAuthz('missing')] }),
      rl({ actions: [{ generic_key: { descriptor_value: 'c' } }] }),
    ];
    expect(buildDescriptors(limits, 0, ctx())).toEqual([
      [{ key: 'generic_key', value: 'a' }],
      [{ key: 'generic_key', value: 'c' }],
    ]);
    expect(buildDescriptors(limits, 1, ctx())).toEqual([[{ key: 'generic_key', value: 'b' }]]);
  });
});
