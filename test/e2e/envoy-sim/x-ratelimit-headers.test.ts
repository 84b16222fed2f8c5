import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import {
  RateLimitResponse_DescriptorStatusSchema,
  RateLimitResponse_RateLimit_Unit as Unit,
} from '../../../common/envoy-api/gen/envoy/service/ratelimit/v3/rls_pb.js';
import { xRateLimitHeaders } from './x-ratelimit-headers.js';

const status = (requestsPerUnit: number, unit: Unit, name: string, remaining: number, reset: bigint) =>
  create(RateLimitResponse_DescriptorStatusSchema, {
    code: 1,
    currentLimit: requestsPerUnit ? { requestsPerUnit, unit, name } : undefined,
    limitRemaining: remaining,
    durationUntilReset: { seconds: reset },
  });

// The cases of Envoy's ratelimit_headers_test.cc, plus the gateway's typical shape.
describe('X-RateLimit headers (DRAFT_VERSION_03)', () => {
  it('gives nothing without statuses', () => {
    expect(xRateLimitHeaders([])).toEqual([]);
  });

  it('ignores a status without current_limit', () => {
    expect(xRateLimitHeaders([status(0, Unit.MINUTE, 'first', 2, 3n), status(4, Unit.HOUR, 'second', 5, 6n)])).toEqual([
      ['x-ratelimit-limit', '4, 4;w=3600;name="second"'],
      ['x-ratelimit-remaining', '5'],
      ['x-ratelimit-reset', '6'],
    ]);
  });

  it('leaves an empty name out', () => {
    expect(xRateLimitHeaders([status(1, Unit.MINUTE, '', 2, 3n)])).toEqual([
      ['x-ratelimit-limit', '1, 1;w=60'],
      ['x-ratelimit-remaining', '2'],
      ['x-ratelimit-reset', '3'],
    ]);
  });

  it('leaves an unknown unit out of the window list but not out of the minimum', () => {
    expect(xRateLimitHeaders([status(1, Unit.UNKNOWN, 'first', 2, 3n), status(4, Unit.HOUR, 'second', 5, 6n)])).toEqual(
      [
        ['x-ratelimit-limit', '1, 4;w=3600;name="second"'],
        ['x-ratelimit-remaining', '2'],
        ['x-ratelimit-reset', '3'],
      ],
    );
  });

  it('lists every window and reports the status with the least remaining', () => {
    expect(xRateLimitHeaders([status(1, Unit.MINUTE, 'first', 2, 3n), status(4, Unit.HOUR, 'second', 5, 6n)])).toEqual([
      ['x-ratelimit-limit', '1, 1;w=60;name="first", 4;w=3600;name="second"'],
      ['x-ratelimit-remaining', '2'],
      ['x-ratelimit-reset', '3'],
    ]);
    expect(xRateLimitHeaders([status(1000, Unit.DAY, '', 900, 50000n), status(10, Unit.MINUTE, '', 10, 60n)])).toEqual([
      ['x-ratelimit-limit', '10, 1000;w=86400, 10;w=60'],
      ['x-ratelimit-remaining', '10'],
      ['x-ratelimit-reset', '60'],
    ]);
  });

  it('keeps the first status on a tie', () => {
    const [limit] = xRateLimitHeaders([status(5, Unit.SECOND, '', 0, 1n), status(7, Unit.YEAR, '', 0, 9n)]);
    expect(limit).toEqual(['x-ratelimit-limit', '5, 5;w=1, 7;w=31536000']);
  });
});
