// A @grpc/grpc-js server with the standard health service (grpc.health.v1) following a HealthState,
// tuned for a hot local sidecar-style service that Envoy calls over a few long-lived HTTP/2 connections.
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import type { HealthState } from './health-state.js';

export interface GrpcServiceRegistration {
  definition: grpc.ServiceDefinition;
  implementation: grpc.UntypedServiceImplementation;
}

export interface StartGrpcServerOptions {
  /** Listen address; default '0.0.0.0'. An IPv6 literal may be given with or without brackets. */
  host?: string;
  /** 0 picks a free port; the real one is returned. */
  port: number;
  services: GrpcServiceRegistration[];
  health: HealthState;
  /** Largest accepted request message; default 4 MiB (the grpc-js default). */
  maxReceiveMessageBytes?: number;
  /** How long close() lets in-flight calls finish before cancelling them; default 5000 ms. */
  drainTimeoutMs?: number;
  /** Extra channel options, applied over the defaults. */
  channelOptions?: grpc.ServerOptions;
}

export interface GrpcServerHandle {
  port: number;
  server: grpc.Server;
  /** Stops accepting connections, lets in-flight calls finish (up to drainTimeoutMs), then cancels the rest. Idempotent. */
  close(): Promise<void>;
}

export const DEFAULT_GRPC_SERVER_OPTIONS: grpc.ServerOptions = {
  // Envoy multiplexes every request onto a handful of connections: do not cap streams low.
  'grpc.max_concurrent_streams': 100_000,
  // Detect dead peers; grpc-js never rejects client keepalive pings, whatever their rate.
  'grpc.keepalive_time_ms': 60_000,
  'grpc.keepalive_timeout_ms': 20_000,
  'grpc.keepalive_permit_without_calls': 1,
  // Not 'grpc.enable_channelz': 0 — grpc-js 1.14 then stops tracking sessions, and
  // forceShutdown() can no longer cut connections (close() would hang on stuck calls).
};

export async function startGrpcServer(opts: StartGrpcServerOptions): Promise<GrpcServerHandle> {
  const options: grpc.ServerOptions = { ...DEFAULT_GRPC_SERVER_OPTIONS };
  if (opts.maxReceiveMessageBytes !== undefined) {
    options['grpc.max_receive_message_length'] = opts.maxReceiveMessageBytes;
  }
  Object.assign(options, opts.channelOptions);
  const server = new grpc.Server(options);

  for (const { definition, implementation } of opts.services) {
    server.addService(definition, implementation);
  }

  // Health: grpc-health-check's implementation, fed from the HealthState. Watch streams are
  // tracked so that close() can end them instead of waiting for the drain timeout.
  let published = healthStatuses(opts.health);
  const health = new HealthImplementation(published);
  const watchCalls = new Set<grpc.ServerWritableStream<unknown, unknown>>();
  health.addToServer({
    addService(definition, implementation) {
      const watch = implementation.watch as grpc.handleServerStreamingCall<unknown, unknown>;
      server.addService(definition as grpc.ServiceDefinition, {
        ...(implementation as grpc.UntypedServiceImplementation),
        watch(call: grpc.ServerWritableStream<unknown, unknown>) {
          watchCalls.add(call);
          const forget = () => watchCalls.delete(call);
          call.on('cancelled', forget);
          call.on('finish', forget);
          call.on('close', forget);
          watch(call);
        },
      });
    },
  });
  const unsubscribe = opts.health.onChange(() => {
    // A change of '' changes every named service too: publish each status that moved.
    const next = healthStatuses(opts.health);
    for (const [service, status] of Object.entries(next)) {
      if (published[service] !== status) health.setStatus(service, status);
    }
    published = next;
  });

  const host = opts.host ?? '0.0.0.0';
  const address = `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${opts.port}`;
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, boundPort) => {
        if (error) reject(new Error(`gRPC server cannot listen on ${address}: ${error.message}`, { cause: error }));
        else resolve(boundPort);
      });
    });
  } catch (e) {
    unsubscribe();
    server.forceShutdown();
    throw e;
  }

  const drainTimeoutMs = opts.drainTimeoutMs ?? 5000;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      unsubscribe();
      for (const call of watchCalls) {
        call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'server shutting down' });
      }
      watchCalls.clear();
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, drainTimeoutMs);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    return closing;
  };

  return { port, server, close };
}

function healthStatuses(state: HealthState): Record<string, ServingStatus> {
  const statuses: Record<string, ServingStatus> = {};
  for (const service of state.services()) {
    statuses[service] = state.isServing(service) ? 'SERVING' : 'NOT_SERVING';
  }
  return statuses;
}
