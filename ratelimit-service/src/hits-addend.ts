// The per-descriptor `hits_addend` (google.protobuf.UInt64Value, field 3 of
// envoy.extensions.common.ratelimit.v3.RateLimitDescriptor) is newer than the Envoy protos we
// generate from, so protobuf-es keeps it as an unknown field: read it from there.
import { fromBinary } from '@bufbuild/protobuf';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { UInt64ValueSchema } from '@bufbuild/protobuf/wkt';
import type { RateLimitDescriptor } from '../../common/envoy-api/gen/envoy/extensions/common/ratelimit/v3/ratelimit_pb.js';

export const hitsAddendField = 3;

/** The descriptor's own hits_addend (0 included), or undefined when it has none. */
export function descriptorHitsAddend(d: RateLimitDescriptor): number | undefined {
  const unknown = d.$unknown?.findLast((f) => f.no === hitsAddendField && f.wireType === WireType.LengthDelimited);
  if (!unknown) return undefined;
  const payload = new BinaryReader(unknown.data).bytes();
  return Number(fromBinary(UInt64ValueSchema, payload).value);
}
