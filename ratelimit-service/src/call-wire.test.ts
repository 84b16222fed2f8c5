import { create, equals, fromBinary, toBinary } from '@bufbuild/protobuf';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { UInt64ValueSchema } from '@bufbuild/protobuf/wkt';
import { describe, expect, it } from 'vitest';
import {
  type RateLimitRequest,
  RateLimitRequestSchema,
  RateLimitResponseSchema,
} from '../../common/envoy-api/gen/envoy/service/ratelimit/v3/rls_pb.js';
import { attempt, corruptedCopies } from '../../test/support/wire-fuzz.js';
import { answerToMessage, callFromMessage, type RateLimitAnswer } from './call.js';
import { answerToWire, callFromWire } from './call-wire.js';

const envoy = create(RateLimitRequestSchema, {
  domain: 'aigw',
  descriptors: [
    {
      entries: [
        { key: 'limit', value: 'client-per-minute' },
        { key: 'client', value: 'app-07' },
      ],
    },
    { entries: [{ key: 'tenant', value: 'hr' }], limit: { requestsPerUnit: 5, unit: 2 } },
  ],
  hitsAddend: 3,
});

/** A request as a newer Envoy encodes it: descriptor i carries hits_addend (field 3, UInt64Value). */
function withDescriptorHits(req: RateLimitRequest, hits: (bigint | undefined)[]): Uint8Array {
  const w = new BinaryWriter();
  if (req.domain) w.tag(1, WireType.LengthDelimited).string(req.domain);
  req.descriptors.forEach((d, i) => {
    const inner = new BinaryWriter();
    inner.raw(toBinary(RateLimitRequestSchema, create(RateLimitRequestSchema, { descriptors: [d] })).subarray(2));
    const h = hits[i];
    if (h !== undefined)
      inner
        .tag(3, WireType.LengthDelimited)
        .bytes(toBinary(UInt64ValueSchema, create(UInt64ValueSchema, { value: h })));
    w.tag(2, WireType.LengthDelimited).bytes(inner.finish());
  });
  if (req.hitsAddend) w.tag(3, WireType.Varint).uint32(req.hitsAddend);
  return w.finish();
}

const requests: [string, Uint8Array][] = [
  ['what Envoy sends', toBinary(RateLimitRequestSchema, envoy)],
  ['empty request', new Uint8Array(0)],
  ['per-descriptor hits_addend, 0 included', withDescriptorHits(envoy, [1500n, 0n])],
  ['hits_addend on one descriptor only', withDescriptorHits(envoy, [undefined, 7n])],
  [
    'empty entries, empty limit override, odd strings',
    toBinary(
      RateLimitRequestSchema,
      create(RateLimitRequestSchema, {
        domain: 'd\u00e9',
        descriptors: [
          {
            entries: [
              { key: '', value: '' },
              { key: '__proto__', value: '💡' },
            ],
            limit: {},
          },
          {},
        ],
      }),
    ),
  ],
];

function reference(bytes: Uint8Array) {
  return callFromMessage(fromBinary(RateLimitRequestSchema, bytes));
}

describe('callFromWire', () => {
  it.each(requests)('%s: same RateLimitCall as decoding the message', (_, bytes) => {
    expect(callFromWire(bytes)).toEqual(reference(bytes));
  });

  it('reads the fields it must (a decoder that returns nothing fails here)', () => {
    const call = callFromWire(requests[2][1]);
    expect(call).toEqual({
      domain: 'aigw',
      hitsAddend: 3,
      descriptors: [
        {
          entries: [
            { key: 'limit', value: 'client-per-minute' },
            { key: 'client', value: 'app-07' },
          ],
          hitsAddend: 1500,
        },
        { entries: [{ key: 'tenant', value: 'hr' }], limit: { requestsPerUnit: 5, unit: 2 }, hitsAddend: 0 },
      ],
    });
  });

  it('merges a message sent in parts as protobuf does (last scalar wins, lists add up, a repeated limit merges)', () => {
    const limitOnly = toBinary(
      RateLimitRequestSchema,
      create(RateLimitRequestSchema, { domain: 'other', descriptors: [{ limit: { unit: 4 } }] }),
    );
    for (const parts of [
      [requests[0][1], requests[2][1]],
      [requests[2][1], requests[0][1], limitOnly],
      [limitOnly, requests[4][1]],
    ]) {
      const bytes = Buffer.concat(parts);
      expect(callFromWire(bytes)).toEqual(reference(bytes));
    }
  });

  it('corrupted bytes: the same call, or an error where the message decoder fails too', () => {
    let bothOk = 0;
    let bothFail = 0;
    for (const bytes of corruptedCopies(
      requests.map(([, b]) => b),
      3000,
      7,
      3,
    )) {
      const ref = attempt(() => reference(bytes));
      const fast = attempt(() => callFromWire(bytes));
      expect(fast.ok).toBe(ref.ok);
      if (ref.ok) {
        expect(fast).toEqual(ref);
        bothOk++;
      } else bothFail++;
    }
    expect(bothOk).toBeGreaterThan(100);
    expect(bothFail).toBeGreaterThan(100);
  });
});

const answers: [string, RateLimitAnswer][] = [
  [
    'over limit with headers',
    {
      overallCode: 2,
      statuses: [
        {
          code: 2,
          currentLimit: { requestsPerUnit: 10, unit: 2, name: 'per-client' },
          limitRemaining: 0,
          durationUntilReset: { seconds: 30 },
        },
        { code: 1, limitRemaining: 4_294_967_295 },
        {
          code: 1,
          currentLimit: { requestsPerUnit: 0, unit: 4, name: '' },
          limitRemaining: 0,
          durationUntilReset: { seconds: 0 },
        },
      ],
      responseHeadersToAdd: [
        { key: 'RateLimit-Limit', value: '10' },
        { key: 'Retry-After', value: '30' },
        { key: 'x-empty', value: '' },
      ],
    },
  ],
  ['no limits', { overallCode: 1, statuses: [{ code: 1, limitRemaining: 0 }], responseHeadersToAdd: [] }],
  [
    'a year away',
    {
      overallCode: 1,
      statuses: [{ code: 1, limitRemaining: 99, durationUntilReset: { seconds: 31_622_400 } }],
      responseHeadersToAdd: [],
    },
  ],
];

describe('answerToWire', () => {
  it.each(answers)('%s: the bytes of the RateLimitResponse message', (_, a) => {
    const decoded = fromBinary(RateLimitResponseSchema, answerToWire(a));
    expect(equals(RateLimitResponseSchema, decoded, answerToMessage(a))).toBe(true);
    expect(decoded.statuses).toHaveLength(a.statuses.length);
  });
});
