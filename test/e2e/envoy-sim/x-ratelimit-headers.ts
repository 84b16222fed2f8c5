// The X-RateLimit-* response headers of Envoy's ratelimit filter with enable_x_ratelimit_headers:
// DRAFT_VERSION_03 (XRateLimitHeaderUtils::create):
// - only descriptor statuses that carry a current_limit count;
// - the status with the LOWEST limit_remaining (the first one on a tie) gives
//   X-RateLimit-Limit's leading number, X-RateLimit-Remaining and X-RateLimit-Reset (whole seconds
//   of duration_until_reset);
// - X-RateLimit-Limit then lists, for EVERY counted status in response order whose unit is known,
//   `, <requests_per_unit>;w=<window seconds>` plus `;name="<name>"` when the limit is named;
//   e.g. "10, 10;w=60, 1000;w=86400". Windows: SECOND 1, MINUTE 60, HOUR 3600, DAY 86400,
//   MONTH 30 days, YEAR 365 days, UNKNOWN 0 (left out of the list but still eligible as minimum).
// No counted status: no headers.
import {
  type RateLimitResponse_DescriptorStatus,
  RateLimitResponse_RateLimit_Unit as Unit,
} from '../../../common/envoy-api/gen/envoy/service/ratelimit/v3/rls_pb.js';

export function windowSeconds(unit: Unit): number {
  switch (unit) {
    case Unit.SECOND:
      return 1;
    case Unit.MINUTE:
      return 60;
    case Unit.HOUR:
      return 3600;
    case Unit.DAY:
      return 86400;
    case Unit.MONTH:
      return 30 * 86400;
    case Unit.YEAR:
      return 365 * 86400;
    default:
      return 0;
  }
}

export function xRateLimitHeaders(statuses: RateLimitResponse_DescriptorStatus[]): [string, string][] {
  let min: RateLimitResponse_DescriptorStatus | undefined;
  let policy = '';
  for (const s of statuses) {
    const limit = s.currentLimit;
    if (!limit) continue;
    if (!min || s.limitRemaining < min.limitRemaining) min = s;
    const w = windowSeconds(limit.unit);
    if (w) {
      policy += `, ${limit.requestsPerUnit};w=${w}`;
      if (limit.name) policy += `;name="${limit.name}"`;
    }
  }
  if (!min?.currentLimit) return [];
  return [
    ['x-ratelimit-limit', `${min.currentLimit.requestsPerUnit}${policy}`],
    ['x-ratelimit-remaining', String(min.limitRemaining)],
    ['x-ratelimit-reset', String(min.durationUntilReset?.seconds ?? 0n)],
  ];
}
