import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { UInt64ValueSchema } from '@bufbuild/protobuf/wkt';
import { describe, expect, it } from 'vitest';
import { RateLimitDescriptorSchema } from '../../common/envoy-api/gen/envoy/extensions/common/ratelimit/v3/ratelimit_pb.js';
import { descriptorHitsAddend } from './hits-addend.js';

/** A descriptor as a newer Envoy encodes it: entries plus field 3, hits_addend (UInt64Value). */
function encode(hits: bigint | undefined): Uint8Array {
  const base = toBinary(
    RateLimitDescriptorSchema,
    create(RateLimitDescriptorSchema, { entries: [{ key: 'tenant', value: 'hr' }] }),
  );
  if (hits === undefined) return base;
  const w = new BinaryWriter();
  w.raw(base);
  w.tag(3, WireType.LengthDelimited).bytes(toBinary(UInt64ValueSchema, create(UInt64ValueSchema, { value: hits })));
  return w.finish();
}

describe('descriptorHitsAddend', () => {
  it('reads the per-descriptor hits_addend, 0 included', () => {
    expect(descriptorHitsAddend(fromBinary(RateLimitDescriptorSchema, encode(1500n)))).toBe(1500);
    expect(descriptorHitsAddend(fromBinary(RateLimitDescriptorSchema, encode(0n)))).toBe(0);
  });
  it('is undefined when the descriptor has none', () => {
    expect(descriptorHitsAddend(fromBinary(RateLimitDescriptorSchema, encode(undefined)))).toBeUndefined();
  });
});
