// How an Ingress or an HTTPRoute reaches a backend, which are URLs (in-cluster Services or
// external APIs): both can name only a Service in their own namespace.
//
//   name.<our namespace>[.svc[.cluster.local]], or a bare "name" → that Service, as it is
//   any other host name, or an IPv4 address                      → ExternalName Service <gateway>-backend-<name>
//   localhost, loopback and link-local addresses, IPv6           → nothing: the route is left out
// (ingress-nginx connects to an IPv4 ExternalName directly; Kubernetes refuses an IPv6 one.)
//
// The generated Services live in manifests/backend-services.yaml, written by this one function
// for both outputs (identical content), so applying both outputs never creates a Service twice.
import net from 'node:net';
import type { Backend, GatewayModel } from '../../model/types.js';
import { toYamlDocuments } from '../../output-yaml.js';
import { generatedHeader, type TargetOutput } from '../target.js';
import { backendWarning, ingressOutputFiles, labels, routedBackends, type TargetName } from './shared.js';

export type BackendTarget =
  /** A Service that exists in the gateway's namespace: referenced, never generated. */
  | { kind: 'existing'; backend: Backend; service: string; port: number }
  | { kind: 'external-name'; backend: Backend; service: string; port: number; externalName: string }
  /** Kubernetes cannot point a Service there (loopback, link-local, localhost, IPv6). */
  | { kind: 'unreachable'; backend: Backend; reason: string };

const inClusterHost = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc(\.cluster\.local)?$/;
const bareName = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const serviceLabel = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** FNV-1a, 8 hex digits: keeps shortened names stable and distinct. */
function shortHash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** A DNS-1035 label (what a Service name must be): starts with a letter, at most 63 characters. */
export function serviceName(wanted: string): string {
  const name = /^[a-z]/.test(wanted) ? wanted : `b-${wanted}`;
  if (name.length <= 63 && serviceLabel.test(name)) return name;
  return `${name.slice(0, 54).replace(/-+$/, '')}-${shortHash(wanted)}`;
}

export const backendServiceName = (model: GatewayModel, backend: string) =>
  serviceName(`${model.name}-backend-${backend}`);

function unreachableAddress(ip: string): boolean {
  if (net.isIPv4(ip)) return ip.startsWith('127.') || ip.startsWith('169.254.') || ip === '0.0.0.0';
  const v6 = ip.toLowerCase();
  return v6 === '::1' || v6 === '::' || /^fe[89ab]/.test(v6);
}

export function backendTarget(model: GatewayModel, backend: Backend): BackendTarget {
  const host = backend.host.replace(/^\[|\]$/g, '').toLowerCase();
  const port = backend.port;
  const service = backendServiceName(model, backend.name);
  if (host === 'localhost' || (net.isIP(host) && unreachableAddress(host)))
    return { kind: 'unreachable', backend, reason: `${host} is this machine's own address` };
  if (net.isIPv6(host)) return { kind: 'unreachable', backend, reason: 'an ExternalName cannot be an IPv6 address' };
  if (net.isIPv4(host)) return { kind: 'external-name', backend, service, port, externalName: host };
  const m = inClusterHost.exec(host);
  if (m && m[3] === model.namespace && serviceLabel.test(m[1]))
    return { kind: 'existing', backend, service: m[1], port };
  // "name" or "name.<our namespace>": resolved in the gateway's namespace, as Envoy's pods do.
  const [first, ...rest] = host.split('.');
  if (bareName.test(first) && (rest.length === 0 || (rest.length === 1 && rest[0] === model.namespace)))
    return { kind: 'existing', backend, service: first, port };
  // A CNAME target is absolute: "name.ns.svc" resolves only with the cluster domain added.
  const externalName = m && !m[5] ? `${host}.cluster.local` : host;
  return { kind: 'external-name', backend, service, port, externalName };
}

/** `blue.apps`: a Service in namespace apps for Envoy (resolver search path), a DNS name for a CNAME. */
export const looksLikeShortServiceName = (host: string) => /^[a-z0-9-]+\.[a-z0-9-]+$/.test(host) && !net.isIP(host);

/** The warning for an ExternalName that may be a Service written without its cluster suffix, if any. */
export function shortServiceNameWarning(target: TargetName, t: BackendTarget): string | undefined {
  if (t.kind !== 'external-name' || !looksLikeShortServiceName(t.externalName)) return undefined;
  const b = t.backend;
  return backendWarning(
    target,
    b.name,
    `host "${b.host}" is used as an external DNS name (ExternalName); if it is a Service, ` +
      `write its URL as ${b.scheme}://${b.host}.svc.cluster.local:${b.port}`,
  );
}

/** Backends that either output routes to: the primary or split backends of routes outside dispatch groups. */
export function servedBackends(model: GatewayModel): Backend[] {
  const used = new Set(
    model.routes.filter((r) => !r.dispatchGroup).flatMap((r) => routedBackends(r).map((b) => b.name)),
  );
  return model.backends.filter((b) => used.has(b.name));
}

/** Services in the gateway's namespace that the outputs reference but do not generate. */
export function existingBackendServices(model: GatewayModel): string[] {
  const out = new Set<string>();
  for (const b of servedBackends(model)) {
    const t = backendTarget(model, b);
    if (t.kind === 'existing') out.add(t.service);
  }
  return [...out].sort();
}

/** The ExternalName Services of the served backends, in model order. */
export function backendServiceObjects(model: GatewayModel): Record<string, unknown>[] {
  const objects: Record<string, unknown>[] = [];
  for (const b of servedBackends(model)) {
    const t = backendTarget(model, b);
    if (t.kind !== 'external-name') continue;
    objects.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: t.service,
        namespace: model.namespace,
        labels: { ...labels(model), 'ai-gateway-kit/backend': b.name },
        annotations: { 'ai-gateway-kit/backend-url': `${b.scheme}://${b.host}:${b.port}` },
      },
      spec: {
        type: 'ExternalName',
        externalName: t.externalName,
        // ingress-nginx connects to the targetPort of an ExternalName Service.
        ports: [{ name: b.scheme, protocol: 'TCP', port: t.port, targetPort: t.port }],
      },
    });
  }
  return objects;
}

/**
 * manifests/backend-services.yaml, or nothing when every served backend is an existing Service.
 * Both emitters put this same entry in their files.
 */
export function backendServicesFile(model: GatewayModel, source: string): Map<string, string> {
  const objects = backendServiceObjects(model);
  if (!objects.length) return new Map();
  const header = generatedHeader(
    'Services for the backends of manifests/ingress-nginx.yaml and manifests/gateway-api.yaml (shared by both).',
    source,
  );
  return new Map([[ingressOutputFiles.backendServices, toYamlDocuments(objects, header)]]);
}

export function emitBackendServices(model: GatewayModel, source: string): TargetOutput {
  return { files: backendServicesFile(model, source), warnings: [] };
}
