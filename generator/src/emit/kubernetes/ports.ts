// The ports of every part, shared by the Deployments, Services, NetworkPolicies and
// ServiceMonitors. The gRPC ports of ext-authz and the rate-limit service are the ports of
// services.*.address: their Services are headless (so that Envoy balances each request over the
// pods, not one HTTP/2 connection per pod), and callers reach the pod at exactly that port.
import type { GatewayModel } from '../../model/types.js';

export interface NamedPort {
  name: string;
  port: number;
}

export interface PortPlan {
  envoy: { listeners: NamedPort[]; stats: number };
  extAuthz: { grpc: number; http: number };
  ratelimit: { grpc: number; http: number };
  redis: number;
}

/** IANA service name rules for a port name: at most 15 characters, a letter, no "--". */
const portName = /^(?=.*[a-z])[a-z0-9]([a-z0-9]|-(?!-)){0,13}[a-z0-9]$|^[a-z]$/;

export function portPlan(model: GatewayModel): PortPlan {
  const used = new Set(['stats']);
  const listeners = model.listeners.map((l, i) => {
    const name = portName.test(l.name) && !used.has(l.name) ? l.name : `listener-${i}`;
    used.add(name);
    return { name, port: l.port };
  });
  const az = model.services.extAuthz.port;
  const rl = model.services.ratelimit.port;
  return {
    envoy: { listeners, stats: model.services.envoy.statsPort },
    extAuthz: { grpc: az, http: az === 9002 ? 9003 : 9002 },
    ratelimit: { grpc: rl, http: rl === 8080 ? 8082 : 8080 },
    redis: 6379,
  };
}
