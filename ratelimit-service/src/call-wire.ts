// ShouldRateLimit straight on the wire: bytes of a RateLimitRequest → RateLimitCall, RateLimitAnswer →
// bytes of a RateLimitResponse, with protobuf-es's BinaryReader, our ProtoWriter and the field numbers
// read from the generated schemas. Building request and response messages cost as much as the
// rest of a call on the Redis path; this reads only the fields the service uses and writes the
// response without an intermediate message. call-wire.test.ts holds it to callFromMessage /
// answerToMessage (call.ts) on valid, odd and corrupted input.
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { UInt64ValueSchema } from '@bufbuild/protobuf/wkt';
import { HeaderValueSchema } from '../../common/envoy-api/gen/envoy/config/core/v3/base_pb.js';
import {
  RateLimitDescriptor_EntrySchema,
  RateLimitDescriptor_RateLimitOverrideSchema,
  RateLimitDescriptorSchema,
} from '../../common/envoy-api/gen/envoy/extensions/common/ratelimit/v3/ratelimit_pb.js';
import {
  RateLimitRequestSchema,
  RateLimitResponse_DescriptorStatusSchema,
  RateLimitResponse_RateLimitSchema,
  RateLimitResponseSchema,
} from '../../common/envoy-api/gen/envoy/service/ratelimit/v3/rls_pb.js';
import { eachField, eachTopField, encodeMessage, field, readString } from '../../common/envoy-api/proto-wire.js';
import type { ProtoWriter } from '../../common/envoy-api/proto-writer.js';
import type { CallDescriptor, RateLimitAnswer, RateLimitCall } from './call.js';
import { hitsAddendField } from './hits-addend.js';

const F = {
  domain: field(RateLimitRequestSchema, 'domain'),
  descriptors: field(RateLimitRequestSchema, 'descriptors'),
  hitsAddend: field(RateLimitRequestSchema, 'hitsAddend'),
  entries: field(RateLimitDescriptorSchema, 'entries'),
  limit: field(RateLimitDescriptorSchema, 'limit'),
  entryKey: field(RateLimitDescriptor_EntrySchema, 'key'),
  entryValue: field(RateLimitDescriptor_EntrySchema, 'value'),
  overrideRequests: field(RateLimitDescriptor_RateLimitOverrideSchema, 'requestsPerUnit'),
  overrideUnit: field(RateLimitDescriptor_RateLimitOverrideSchema, 'unit'),
};
const UINT64_VALUE = field(UInt64ValueSchema, 'value').no;

function readDescriptor(r: BinaryReader): CallDescriptor {
  const d: CallDescriptor = { entries: [] };
  eachField(r, 1, RateLimitDescriptorSchema, (no, wt) => {
    if (no === F.entries.no) {
      const e = { key: '', value: '' };
      eachField(r, 2, RateLimitDescriptor_EntrySchema, (eno) => {
        if (eno === F.entryKey.no) e.key = readString(r, F.entryKey.strict);
        else if (eno === F.entryValue.no) e.value = readString(r, F.entryValue.strict);
        else return false;
        return true;
      });
      d.entries.push(e);
      return true;
    }
    if (no === F.limit.no) {
      // A repeated singular message merges into the first, as in protobuf.
      const limit = d.limit ?? { requestsPerUnit: 0, unit: 0 };
      eachField(r, 2, RateLimitDescriptor_RateLimitOverrideSchema, (lno) => {
        if (lno === F.overrideRequests.no) limit.requestsPerUnit = r.uint32();
        else if (lno === F.overrideUnit.no) limit.unit = r.int32();
        else return false;
        return true;
      });
      d.limit = limit;
      return true;
    }
    // hits_addend (google.protobuf.UInt64Value) is newer than our protos: see hits-addend.ts.
    if (no === hitsAddendField && wt === WireType.LengthDelimited) {
      // The last occurrence counts, whole (hits-addend.ts reads the unknown field the same way).
      let value = 0;
      eachField(r, 2, UInt64ValueSchema, (vno) => {
        if (vno !== UINT64_VALUE) return false;
        value = Number(r.uint64());
        return true;
      });
      d.hitsAddend = value;
      return true;
    }
    return false;
  });
  return d;
}

/** A serialized RateLimitRequest → RateLimitCall (as callFromMessage(fromBinary(...)) gives it). Throws on bad bytes. */
export function callFromWire(bytes: Uint8Array): RateLimitCall {
  const call: RateLimitCall = { domain: '', descriptors: [], hitsAddend: 0 };
  const r = new BinaryReader(bytes);
  eachTopField(r, RateLimitRequestSchema, (no) => {
    if (no === F.domain.no) call.domain = readString(r, F.domain.strict);
    else if (no === F.descriptors.no) call.descriptors.push(readDescriptor(r));
    else if (no === F.hitsAddend.no) call.hitsAddend = r.uint32();
    else return false;
    return true;
  });
  return call;
}

const W = {
  overallCode: field(RateLimitResponseSchema, 'overallCode').no,
  statuses: field(RateLimitResponseSchema, 'statuses').no,
  responseHeaders: field(RateLimitResponseSchema, 'responseHeadersToAdd').no,
  code: field(RateLimitResponse_DescriptorStatusSchema, 'code').no,
  currentLimit: field(RateLimitResponse_DescriptorStatusSchema, 'currentLimit').no,
  limitRemaining: field(RateLimitResponse_DescriptorStatusSchema, 'limitRemaining').no,
  durationUntilReset: field(RateLimitResponse_DescriptorStatusSchema, 'durationUntilReset').no,
  limitName: field(RateLimitResponse_RateLimitSchema, 'name').no,
  limitRequests: field(RateLimitResponse_RateLimitSchema, 'requestsPerUnit').no,
  limitUnit: field(RateLimitResponse_RateLimitSchema, 'unit').no,
  headerKey: field(HeaderValueSchema, 'key').no,
  headerValue: field(HeaderValueSchema, 'value').no,
};
// google.protobuf.Duration: a stable well-known layout.
const DURATION_SECONDS = 1;

/** RateLimitAnswer → serialized RateLimitResponse (what toBinary(answerToMessage(a)) decodes to). */
export function answerToWire(a: RateLimitAnswer): Uint8Array {
  return encodeMessage((w) => writeAnswer(w, a));
}

function writeAnswer(w: ProtoWriter, a: RateLimitAnswer): void {
  if (a.overallCode !== 0) w.tag(W.overallCode, WireType.Varint).int32(a.overallCode);
  for (const s of a.statuses) {
    w.tag(W.statuses, WireType.LengthDelimited).fork();
    if (s.code !== 0) w.tag(W.code, WireType.Varint).int32(s.code);
    const l = s.currentLimit;
    if (l) {
      w.tag(W.currentLimit, WireType.LengthDelimited).fork();
      if (l.requestsPerUnit !== 0) w.tag(W.limitRequests, WireType.Varint).uint32(l.requestsPerUnit);
      if (l.unit !== 0) w.tag(W.limitUnit, WireType.Varint).int32(l.unit);
      if (l.name !== '') w.tag(W.limitName, WireType.LengthDelimited).string(l.name);
      w.join();
    }
    if (s.limitRemaining !== 0) w.tag(W.limitRemaining, WireType.Varint).uint32(s.limitRemaining);
    if (s.durationUntilReset) {
      w.tag(W.durationUntilReset, WireType.LengthDelimited).fork();
      if (s.durationUntilReset.seconds !== 0)
        w.tag(DURATION_SECONDS, WireType.Varint).int64(s.durationUntilReset.seconds);
      w.join();
    }
    w.join();
  }
  for (const h of a.responseHeadersToAdd) {
    w.tag(W.responseHeaders, WireType.LengthDelimited).fork();
    if (h.key !== '') w.tag(W.headerKey, WireType.LengthDelimited).string(h.key);
    if (h.value !== '') w.tag(W.headerValue, WireType.LengthDelimited).string(h.value);
    w.join();
  }
}
