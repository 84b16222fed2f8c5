// What ShouldRateLimit reads from a RateLimitRequest and what it answers, as plain objects: the gRPC
// path reads and writes them straight on the wire (call-wire.ts); callFromMessage / answerToMessage
// are the same mappings on protobuf-es messages (tests, and the reference the wire codec is held to).
import { create } from '@bufbuild/protobuf';
import {
  type RateLimitRequest,
  type RateLimitResponse,
  RateLimitResponseSchema,
} from '../../common/envoy-api/gen/envoy/service/ratelimit/v3/rls_pb.js';
import { descriptorHitsAddend } from './hits-addend.js';

export interface CallDescriptor {
  entries: { key: string; value: string }[];
  /** The descriptor's `limit` override; unit is RateLimitResponse.RateLimit.Unit's number. */
  limit?: { requestsPerUnit: number; unit: number };
  /** The descriptor's own hits_addend (0 included); undefined when it has none. */
  hitsAddend?: number;
}

export interface RateLimitCall {
  domain: string;
  descriptors: CallDescriptor[];
  /** The request's hits_addend (0 when unset). */
  hitsAddend: number;
}

export interface AnswerStatus {
  /** RateLimitResponse.Code's number. */
  code: number;
  currentLimit?: { requestsPerUnit: number; unit: number; name: string };
  limitRemaining: number;
  durationUntilReset?: { seconds: number };
}

export interface RateLimitAnswer {
  overallCode: number;
  statuses: AnswerStatus[];
  responseHeadersToAdd: { key: string; value: string }[];
}

export function callFromMessage(req: RateLimitRequest): RateLimitCall {
  return {
    domain: req.domain,
    hitsAddend: req.hitsAddend,
    descriptors: req.descriptors.map((d) => {
      const out: CallDescriptor = { entries: d.entries.map((e) => ({ key: e.key, value: e.value })) };
      if (d.limit) out.limit = { requestsPerUnit: d.limit.requestsPerUnit, unit: d.limit.unit };
      const own = descriptorHitsAddend(d);
      if (own !== undefined) out.hitsAddend = own;
      return out;
    }),
  };
}

export function answerToMessage(a: RateLimitAnswer): RateLimitResponse {
  return create(RateLimitResponseSchema, {
    overallCode: a.overallCode,
    statuses: a.statuses.map((s) => ({
      code: s.code,
      currentLimit: s.currentLimit,
      limitRemaining: s.limitRemaining,
      durationUntilReset: s.durationUntilReset && { seconds: BigInt(s.durationUntilReset.seconds) },
    })),
    responseHeadersToAdd: a.responseHeadersToAdd,
  });
}
