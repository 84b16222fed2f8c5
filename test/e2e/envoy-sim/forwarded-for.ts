// The downstream client address, as Envoy's HTTP connection manager decides it
// (ConnectionManagerUtility::mutateRequestHeaders and Utility::getLastAddressFromXFF), and whether
// the request is "internal" (which sets x-envoy-internal: true).
//
// use_remote_address: true
//   - xff_num_trusted_hops = 0: the client is the TCP peer;
//   - xff_num_trusted_hops = N > 0: the client is the Nth address from the right of the
//     X-Forwarded-For the request ARRIVED with (N=1: its last entry, appended by the trusted
//     proxy); if XFF has fewer entries or that one is not an IP address, the TCP peer;
//   - then the peer is appended to X-Forwarded-For.
// use_remote_address: false: the client is the (N+1)th address from the right of XFF, if any.
//
// Internal: XFF held at most the one address (none, when use_remote_address is true) AND the
// client address is internal. Which addresses are internal: internal_address_config.cidr_ranges
// when set; otherwise Envoy up to 1.33 trusts RFC 1918 / RFC 4193 (10/8, 172.16/12, 192.168/16,
// 127.0.0.1, fd00::/8, ::1), unless the runtime flag
// envoy.reloadable_features.explicit_internal_address_config is true, in which case nothing is.
import { BlockList, isIP } from 'node:net';

export interface XffAddress {
  address?: string;
  /** Envoy's single_address_: XFF had exactly one entry and none was skipped. */
  singleAddress: boolean;
}

/** Envoy's getLastAddressFromXFF(headers, numToSkip). */
export function lastAddressFromXff(xff: string | undefined, numToSkip: number): XffAddress {
  if (xff === undefined) return { singleAddress: false };
  let s = xff;
  for (let i = 0; i < numToSkip; i++) {
    const comma = s.lastIndexOf(',');
    if (comma < 0) return { singleAddress: false };
    s = s.slice(0, comma);
  }
  const comma = s.lastIndexOf(',');
  if (comma >= 0 && comma + 1 < s.length) s = s.slice(comma + 1);
  s = s.trim();
  if (!isIP(s)) return { singleAddress: false };
  return { address: s, singleAddress: comma < 0 && numToSkip === 0 };
}

export interface InternalAddressPolicy {
  /** internal_address_config.cidr_ranges, when the HCM sets internal_address_config. */
  cidrRanges?: { prefix: string; len: number }[];
  /** envoy.reloadable_features.explicit_internal_address_config (true: unset config trusts nothing). */
  explicitConfig: boolean;
}

function legacyInternal(ip: string): boolean {
  if (isIP(ip) === 4) {
    const [a, b] = ip.split('.').map(Number);
    return a === 10 || (a === 192 && b === 168) || (a === 172 && b >= 16 && b <= 31) || ip === '127.0.0.1';
  }
  const l = ip.toLowerCase();
  return l.startsWith('fd') || l === '::1';
}

export function isInternalAddress(ip: string, policy: InternalAddressPolicy): boolean {
  if (policy.cidrRanges?.length) {
    const list = new BlockList();
    for (const r of policy.cidrRanges) list.addSubnet(r.prefix, r.len, isIP(r.prefix) === 6 ? 'ipv6' : 'ipv4');
    return list.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4');
  }
  return policy.explicitConfig ? false : legacyInternal(ip);
}

export interface ClientAddressConfig {
  useRemoteAddress: boolean;
  xffNumTrustedHops: number;
  skipXffAppend: boolean;
  internal: InternalAddressPolicy;
}

export interface ClientAddress {
  /** The address Envoy uses as the downstream remote address (remote_address descriptor, logs). */
  remoteAddress: string;
  /** x-envoy-internal: true is set. */
  internal: boolean;
  /** An edge request (external and use_remote_address): x-envoy-* sanitised, x-request-id regenerated. */
  edge: boolean;
  /** The new X-Forwarded-For value, or undefined to leave the header untouched. */
  xff?: string;
}

export function clientAddress(peer: string, xff: string | undefined, cfg: ClientAddressConfig): ClientAddress {
  let remote: string | undefined;
  let single: boolean;
  let newXff: string | undefined;
  if (cfg.useRemoteAddress) {
    single = xff === undefined;
    if (cfg.xffNumTrustedHops > 0) remote = lastAddressFromXff(xff, cfg.xffNumTrustedHops - 1).address;
    remote ??= peer;
    // A loopback peer appends Envoy's own (local) address instead; the simulator appends the peer.
    if (!cfg.skipXffAppend) newXff = xff === undefined || xff === '' ? peer : `${xff},${peer}`;
  } else {
    const r = lastAddressFromXff(xff, cfg.xffNumTrustedHops);
    remote = r.address;
    single = r.singleAddress;
  }
  const internal = single && remote !== undefined && isInternalAddress(remote, cfg.internal);
  remote ??= peer;
  return { remoteAddress: remote, internal, edge: !internal && cfg.useRemoteAddress, xff: newXff };
}
