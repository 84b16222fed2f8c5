// The standard gRPC health service (grpc.health.v1.Health: Check and Watch) over a HealthState.
// Its two messages have one field each, so they are read and written here directly:
//   HealthCheckRequest  { string service = 1; }
//   HealthCheckResponse { ServingStatus status = 1; }  UNKNOWN 0, SERVING 1, NOT_SERVING 2, SERVICE_UNKNOWN 3
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import type { HealthState } from './health-state.js';

export const HEALTH_CHECK_PATH = '/grpc.health.v1.Health/Check';
export const HEALTH_WATCH_PATH = '/grpc.health.v1.Health/Watch';

export const ServingStatus = { SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } as const;

/** HealthCheckRequest.service (throws on bytes that are not a HealthCheckRequest). */
export function readHealthRequest(bytes: Uint8Array): string {
  const reader = new BinaryReader(bytes);
  let service = '';
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.LengthDelimited) service = reader.string();
    else reader.skip(wireType, field);
  }
  return service;
}

/** An encoded HealthCheckResponse. */
export function healthResponse(status: number): Uint8Array {
  return Uint8Array.of(0x08, status); // field 1, varint; every status fits one byte
}

/** The status Watch reports for `service`: SERVICE_UNKNOWN until the service is declared. */
export function watchedStatus(health: HealthState, service: string): number {
  if (!health.has(service)) return ServingStatus.SERVICE_UNKNOWN;
  return health.isServing(service) ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
}
